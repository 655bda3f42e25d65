import { AuthModule } from '@kepu/auth';
import { NotificationsModule } from '@kepu/notifications';
import { Module } from '@nestjs/common';
import { QueueBoard } from './queue-board.service';

/** The queue dashboard at /admin/queues, city_admin only (see queue-board.auth.ts). */
@Module({
  imports: [AuthModule, NotificationsModule],
  providers: [QueueBoard],
})
export class QueueBoardModule {}
