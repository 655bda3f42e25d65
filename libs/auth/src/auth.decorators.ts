import type { Actor, Role } from '@kepu/core';
import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'kepu:isPublic';
export const ROLES_ALLOWED = 'kepu:rolesAllowed';

/** No bearer token needed (login, health, metrics, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Only these roles may call the handler at all (403 otherwise); object scope is checked further in. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_ALLOWED, roles);

export interface AuthenticatedRequest {
  actor?: Actor;
}

/** The authenticated actor of the request; the guard guarantees it is there. */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<AuthenticatedRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a public route');
  return actor;
});
