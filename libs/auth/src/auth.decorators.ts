import type { Actor, Role } from '@kepu/core';
import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const IS_PUBLIC = 'kepu:isPublic';
export const ROLES_ALLOWED = 'kepu:rolesAllowed';

/** The OpenAPI extension of a public operation: apps/api documents it without the bearer requirement every other one has. */
export const PUBLIC_EXTENSION = 'x-kepu-public';

/** No bearer token needed (login, health, metrics, docs). */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiExtension(PUBLIC_EXTENSION, true));

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
