import { RateLimitModule } from '@kepu/http';
import { NotificationsModule } from '@kepu/notifications';
import { Module } from '@nestjs/common';
import { AuthModule } from './auth.module';
import { PhoneCodesRepository } from './phone-codes.repository';
import { SignupService } from './signup.service';
import { UsersRepository } from './users.repository';

/** Sign-up by SMS code and a user's own phone and contact addresses (the API only). */
@Module({
  imports: [AuthModule, NotificationsModule, RateLimitModule],
  providers: [PhoneCodesRepository, UsersRepository, SignupService],
  exports: [SignupService],
})
export class SignupModule {}
