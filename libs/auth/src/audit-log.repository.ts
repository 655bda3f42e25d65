import { type KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditContext, type AuditEntry, type AuditLogRow, recordAudit } from './audit-log';

@Injectable()
export class AuditLogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** An entry on its own, for actions that write nothing else (a lockout). */
  record(context: AuditContext, entry: AuditEntry): Promise<void> {
    return recordAudit(this.dataSource.manager, context, entry);
  }

  /** Newest first, keyset (at, id), limit + 1 rows. */
  list(action: string | undefined, limit: number, after?: KeysetPosition): Promise<AuditLogRow[]> {
    const params: unknown[] = [limit + 1];
    const where: string[] = [];
    if (action) {
      params.push(action);
      where.push(`action = $${params.length}`);
    }
    if (after) {
      params.push(after.at, after.id);
      where.push(`(at, id) < ($${params.length - 1}, $${params.length})`);
    }
    return this.dataSource.query<AuditLogRow[]>(
      `SELECT id, at, actor_id, actor_role, action, target_type, target_id, summary, ip FROM audit_log
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $1`,
      params,
    );
  }
}
