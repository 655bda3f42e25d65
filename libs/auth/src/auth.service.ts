import { type Actor, NotFoundError, UnauthenticatedError } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import type { LoginDto, LoginResultView } from './login.dto';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password';
import { TokenService } from './token.service';
import { toUserView, type UserView } from './user.view';
import { actorOf, UsersRepository } from './users.repository';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: TokenService,
  ) {}

  async login(dto: LoginDto): Promise<LoginResultView> {
    const user = await this.users.findByUsername(dto.username);
    // Hash even for an unknown user so response time does not reveal which usernames exist.
    const isValid = await verifyPassword(dto.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !isValid || !user.isActive) throw new UnauthenticatedError('Wrong username or password.');
    return {
      accessToken: await this.tokens.issue(actorOf(user)),
      tokenType: 'Bearer',
      expiresIn: this.tokens.expiresInSeconds,
      user: toUserView(user),
    };
  }

  async me(actor: Actor): Promise<UserView> {
    const user = await this.users.findById(actor.userId);
    if (!user) throw new NotFoundError('Your account no longer exists.');
    return toUserView(user);
  }
}
