import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** A message to write in the caller's transaction: it is relayed after the commit, or never if the transaction rolls back. */
export interface NewOutboxMessage {
  type: string;
  /** `null` for a message about no order (its recipients are listed in the payload). */
  orderId: string | null;
  payload: Record<string, unknown>;
}

export interface UnpublishedMessage {
  id: string;
  type: string;
  orderId: string | null;
}

@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Locks up to `limit` unpublished messages (SKIP LOCKED: other relays take the
   * next ones), hands them to `publish`, and marks them published in the same
   * transaction; when `publish` throws, they stay unpublished. Returns how many.
   */
  async publishNext(limit: number, publish: (messages: UnpublishedMessage[]) => Promise<void>): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<{ id: string; type: string; order_id: string | null }[]>(
        `SELECT id, type, order_id FROM outbox WHERE published_at IS NULL ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return 0;
      await publish(rows.map((r) => ({ id: r.id, type: r.type, orderId: r.order_id })));
      await manager.query(`UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  /** Appends messages in the caller's transaction; the insert trigger wakes the relay at commit. */
  async append(manager: EntityManager, messages: NewOutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await manager.query(
      `INSERT INTO outbox (type, order_id, payload)
       SELECT m.type, m.order_id, m.payload FROM jsonb_to_recordset($1::jsonb) AS m(type text, order_id uuid, payload jsonb)`,
      [JSON.stringify(messages.map((m) => ({ type: m.type, order_id: m.orderId, payload: m.payload })))],
    );
  }
}
