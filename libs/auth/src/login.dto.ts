import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { UserView } from './user.view';

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  username: string;

  @ApiProperty({ example: 'a long passphrase' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  password: string;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'The refreshToken of the last login or refresh' })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  refreshToken: string;
}

export class LoginResultView {
  @ApiProperty() accessToken: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn: number;
  @ApiProperty({ description: 'Single use: POST /auth/refresh answers a new pair; a reused one revokes the session' }) refreshToken: string;
  @ApiProperty({ description: 'Seconds until the refresh token expires' }) refreshExpiresIn: number;
  @ApiProperty({ type: UserView }) user: UserView;
}
