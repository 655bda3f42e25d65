import { AppConfig } from '@kepu/config';
import { type Actor, ROLES, type Role, UnauthenticatedError } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

/** Claims carried by an access token: the actor's scope, so guards need no database read. */
interface AccessClaims {
  sub: string;
  role: Role;
  cc: string | null;
  dep: string | null;
  org: string | null;
  dis: string | null;
  vol: string | null;
}

@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  get expiresInSeconds(): number {
    return this.config.accessTokenTtlSeconds;
  }

  async issue(actor: Actor): Promise<string> {
    const claims: AccessClaims = {
      sub: actor.userId,
      role: actor.role,
      cc: actor.communityCode,
      dep: actor.departmentId,
      org: actor.organizationId,
      dis: actor.districtCode,
      vol: actor.volunteerId,
    };
    return this.jwt.signAsync(claims, { expiresIn: this.config.accessTokenTtlSeconds, algorithm: 'HS256' });
  }

  async verify(token: string): Promise<Actor> {
    let claims: AccessClaims;
    try {
      claims = await this.jwt.verifyAsync<AccessClaims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthenticatedError('The access token is invalid or expired.');
    }
    if (typeof claims.sub !== 'string' || !ROLES.includes(claims.role)) throw new UnauthenticatedError('The access token is invalid.');
    return {
      userId: claims.sub,
      role: claims.role,
      communityCode: claims.cc ?? null,
      departmentId: claims.dep ?? null,
      organizationId: claims.org ?? null,
      districtCode: claims.dis ?? null,
      volunteerId: claims.vol ?? null,
    };
  }
}
