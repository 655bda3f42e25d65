import { type KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { Sql } from '@kepu/db';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type AuditContext, type AuditEntry, type AuditLogRow } from './audit-log';

/**
 * Writes the entry with the caller's manager, so it commits or rolls back with
 * the action it records.
 */
export async function recordAudit(manager: Pick<EntityManager, 'query'>, context: AuditContext, entry: AuditEntry): Promise<void> {
  await manager.query(
    `INSERT INTO audit_log (actor_id, actor_role, action, target_type, target_id, summary, ip) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [context.actor?.userId ?? null, context.actor?.role ?? null, entry.action, entry.targetType, entry.targetId, JSON.stringify(entry.summary), context.ip],
  );
}

@Injectable()
export class AuditLogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** An entry on its own, for actions that write nothing else (a lockout). */
  record(context: AuditContext, entry: AuditEntry): Promise<void> {
    return recordAudit(this.dataSource.manager, context, entry);
  }

  /** Newest first, keyset (at, id), limit + 1 rows. */
  list(action: string | undefined, limit: number, after?: KeysetPosition): Promise<AuditLogRow[]> {
    const sql = new Sql();
    const where: string[] = [];
    if (action) where.push(`action = ${sql.param(action)}`);
    if (after) where.push(`(at, id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    return this.dataSource.query<AuditLogRow[]>(
      `SELECT id, at, actor_id, actor_role, action, target_type, target_id, summary, ip FROM audit_log
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
  }
}
