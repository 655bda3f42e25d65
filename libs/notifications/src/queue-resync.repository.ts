import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Statuses whose order keeps timers (StageTimersService): SLA stages and expiry, reminders, rating. */
const TIMED_STATUSES = ['submitted', 'dispatched', 'claimed', 'accepted', 'scheduled', 'completed'];

/** What PostgreSQL knows of the work the queues should hold: the source of truth after Redis lost its data. */
@Injectable()
export class QueueResyncRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Published messages of `types` since `since` that no notification came of: their
   * fan-out job was lost or never ran. A message whose rule had no recipient left is
   * listed too; fanning it out again writes nothing.
   */
  async publishedWithoutNotifications(types: string[], since: Date): Promise<{ id: string; type: string }[]> {
    const rows = await this.dataSource.query<{ id: string; type: string }[]>(
      `SELECT o.id, o.type FROM outbox o
       WHERE o.published_at IS NOT NULL AND o.created_at >= $2 AND o.type = ANY($1::text[])
         AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source_id = o.id)
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.source_id = o.id) -- a bare-phone message has deliveries only
       ORDER BY o.created_at`,
      [types, since],
    );
    return rows;
  }

  /** The latest order event of every order in a timed status: a stage-changed job of it reconciles the order's timers. */
  async latestEventOfTimedOrders(): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT DISTINCT ON (o.order_id) o.id FROM outbox o JOIN orders ord ON ord.id = o.order_id
       WHERE ord.status = ANY($1::text[]) AND o.type LIKE 'order.%'
       ORDER BY o.order_id, o.created_at DESC`,
      [TIMED_STATUSES],
    );
    return rows.map((r) => r.id);
  }

  async pendingDeliveries(): Promise<{ id: string; notBefore: Date }[]> {
    const rows = await this.dataSource.query<{ id: string; not_before: Date }[]>(`SELECT id, not_before FROM deliveries WHERE status = 'pending'`);
    return rows.map((r) => ({ id: r.id, notBefore: r.not_before }));
  }
}
