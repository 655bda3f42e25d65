import { type Page, toPage } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { type AuditContext, type AuditEntry, type AuditLogEntryView, auditCursor, type AuditLogQueryDto, toAuditLogEntryView } from './audit-log';
import { AuditLogRepository } from './audit-log.repository';

const DEFAULT_PAGE_SIZE = 20;

@Injectable()
export class AuditLogService {
  constructor(private readonly repository: AuditLogRepository) {}

  /** An entry on its own, for what writes nothing else through a library (the demo seed's run). */
  record(context: AuditContext, entry: AuditEntry): Promise<void> {
    return this.repository.record(context, entry);
  }

  async list(query: AuditLogQueryDto): Promise<Page<AuditLogEntryView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.list(query.action, limit, auditCursor(query));
    return toPage(rows, limit, (r) => ({ at: r.at, id: r.id }), toAuditLogEntryView);
  }
}
