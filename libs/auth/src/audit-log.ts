import { type Actor } from '@kepu/core';
import { decodeCursor, IsOmittable, PageQueryDto, type KeysetPosition } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Matches } from 'class-validator';

/** Who did an administrative action, and from where. */
export interface AuditContext {
  actor: Actor | null;
  ip: string | null;
}

/**
 * One row of the audit log. `summary` names what changed (username, role,
 * scope, names) and never a secret or personal data: no password, token or phone.
 */
export interface AuditEntry {
  action:
    | 'user.created'
    | 'user.registered'
    | 'user.phone_changed'
    | 'department.created'
    | 'organization.created'
    | 'volunteer.created'
    | 'volunteer.updated'
    | 'account.locked'
    | 'user.logged_in'
    | 'demo.seeded';
  /** `database`: the entry is about the whole database (the demo seed), targetId null. */
  targetType: 'user' | 'department' | 'organization' | 'volunteer' | 'database';
  targetId: string | null;
  summary: Record<string, unknown>;
}

export class AuditLogQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'user.created' })
  @IsOmittable()
  @Matches(/^[a-z_]{1,40}\.[a-z_]{1,40}$/, { message: 'action must look like user.created' })
  action?: string;
}

export class AuditLogEntryView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() at: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) actorId: string | null;
  @ApiProperty({ type: String, nullable: true }) actorRole: string | null;
  @ApiProperty({ example: 'user.created' }) action: string;
  @ApiProperty({ example: 'user' }) targetType: string;
  @ApiProperty({ type: String, nullable: true }) targetId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) summary: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true }) ip: string | null;
}

export class AuditLogPageView {
  @ApiProperty({ type: [AuditLogEntryView] }) items: AuditLogEntryView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export interface AuditLogRow {
  id: string;
  at: Date;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  summary: Record<string, unknown>;
  ip: string | null;
}

export const toAuditLogEntryView = (r: AuditLogRow): AuditLogEntryView => ({
  id: r.id,
  at: r.at.toISOString(),
  actorId: r.actor_id,
  actorRole: r.actor_role,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  summary: r.summary,
  ip: r.ip,
});

export const auditCursor = (query: AuditLogQueryDto): KeysetPosition | undefined => (query.cursor ? decodeCursor(query.cursor) : undefined);
