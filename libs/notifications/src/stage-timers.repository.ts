import { type OrderStatus, RESTARTS_STAGE, type SlaStage } from '@kepu/core';
import { preparedQuery } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface OrderTimes {
  status: OrderStatus;
  version: number;
  districtCode: string;
  lastWindowEnd: Date;
  scheduledStart: Date | null;
  scheduledEnd: Date | null;
  completedAt: Date | null;
  /** 应急科普: shortened deadlines. */
  urgent: boolean;
}

@Injectable()
export class StageTimersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A primary-key read every timer job makes (twice per reconcile): prepared, planned once per connection. */
  async orderTimes(orderId: string): Promise<OrderTimes | null> {
    const rows = await preparedQuery<
      {
        status: OrderStatus;
        version: number;
        district_code: string;
        last_window_end: Date;
        scheduled_start: Date | null;
        scheduled_end: Date | null;
        completed_at: Date | null;
        urgent: boolean;
      }
    >(
      this.dataSource,
      'kepu_order_times',
      `SELECT status, version, district_code, last_window_end, scheduled_start, scheduled_end, completed_at, urgent FROM orders WHERE id = $1`,
      [orderId],
    );
    const r = rows[0];
    return r
      ? {
          status: r.status,
          version: r.version,
          districtCode: r.district_code,
          lastWindowEnd: r.last_window_end,
          scheduledStart: r.scheduled_start,
          scheduledEnd: r.scheduled_end,
          completedAt: r.completed_at,
          urgent: r.urgent,
        }
      : null;
  }

  /** Whether the order was published as an event with sign-ups (libs/events' table, read only). */
  async isPublished(orderId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(`SELECT 1 FROM events WHERE order_id = $1`, [orderId]);
    return rows.length > 0;
  }

  /**
   * An outbox message a timer produces, under an id derived from what it is about:
   * a timer that fires twice writes it once.
   */
  async announceOnce(key: string, type: string, orderId: string, payload: Record<string, unknown>): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO outbox (id, type, order_id, payload) VALUES (md5($1)::uuid, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [key, type, orderId, JSON.stringify({ orderId, ...payload })],
    );
    return rows.length > 0;
  }

  /**
   * The event that last brought the order into `status`, or started it afresh (a reassign):
   * which stretch of the stage a timer belongs to.
   */
  async lastEntry(orderId: string, status: OrderStatus): Promise<{ seq: number; at: Date } | null> {
    const rows = await this.dataSource.query<{ seq: number; at: Date }[]>(
      `SELECT seq, at FROM order_events WHERE order_id = $1 AND to_status = $2 AND (from_status IS DISTINCT FROM to_status OR type = ANY($3::text[])) ORDER BY seq DESC LIMIT 1`,
      [orderId, status, RESTARTS_STAGE],
    );
    return rows[0] ?? null;
  }

  /**
   * The breach and its outbox message in one transaction; a second firing of the
   * same timer finds the breach recorded and writes nothing. True when recorded now.
   */
  async recordBreach(b: { orderId: string; districtCode: string; stage: SlaStage; enteredSeq: number; enteredAt: Date; dueAt: Date; label: string }): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const inserted = await manager.query<{ id: string }[]>(
        `INSERT INTO sla_breaches (order_id, district_code, stage, entered_seq, entered_at, due_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT ON CONSTRAINT sla_breaches_once DO NOTHING RETURNING id`,
        [b.orderId, b.districtCode, b.stage, b.enteredSeq, b.enteredAt, b.dueAt],
      );
      if (inserted.length === 0) return false;
      await manager.query(`INSERT INTO outbox (type, order_id, payload) VALUES ('sla.breached', $1, $2)`, [
        b.orderId,
        JSON.stringify({ orderId: b.orderId, stage: b.stage, reason: b.label, dueAt: b.dueAt.toISOString(), breachId: inserted[0]?.id }),
      ]);
      return true;
    });
  }
}
