import { ForbiddenError, type Role, UnauthenticatedError } from '@kepu/core';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type AuthenticatedRequest, IS_PUBLIC, ROLES_ALLOWED } from './auth.decorators';
import { TokenService } from './token.service';
import { UsersRepository } from './users.repository';

/** Global guard: a valid bearer token everywhere but @Public() routes, the actor's volunteer profile, then the @Roles() check. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly users: UsersRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { headers: Record<string, string | undefined> }>();
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new UnauthenticatedError('Send Authorization: Bearer <accessToken>.');
    const token = await this.tokens.verify(match[1]);
    // The volunteer profile comes from the database, not the token: a user approved as a
    // volunteer acts as one at once, with the token it already holds (one unique-index read).
    const actor = { ...token, volunteerId: await this.users.volunteerIdOf(token.userId) };
    request.actor = actor;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_ALLOWED, targets);
    if (roles && !roles.includes(actor.role)) throw new ForbiddenError(`Only ${roles.join(', ')} may do this.`);
    return true;
  }
}
