import { type Actor, RESTARTS_STAGE, type OrderStatus, type SlaStage } from '@kepu/core';
import { rowsOf, Sql } from '@kepu/db';
import { type KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export type EscalationStatus = 'open' | 'acknowledged' | 'resolved';

interface EscalationRow {
  id: string;
  order_id: string;
  district_code: string;
  stage: SlaStage;
  due_at: Date;
  breached_at: Date;
  status: EscalationStatus;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  note: string | null;
  resolved_at: Date | null;
  order_code: string;
  order_title: string;
  order_status: OrderStatus;
  order_community_code: string;
  order_urgent: boolean;
}

export interface EscalationRecord {
  id: string;
  orderId: string;
  districtCode: string;
  stage: SlaStage;
  dueAt: Date;
  breachedAt: Date;
  status: EscalationStatus;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  note: string | null;
  resolvedAt: Date | null;
  order: { code: string; title: string; status: OrderStatus; communityCode: string; urgent: boolean };
}

const toRecord = (r: EscalationRow): EscalationRecord => ({
  id: r.id,
  orderId: r.order_id,
  districtCode: r.district_code,
  stage: r.stage,
  dueAt: r.due_at,
  breachedAt: r.breached_at,
  status: r.status,
  acknowledgedBy: r.acknowledged_by,
  acknowledgedAt: r.acknowledged_at,
  note: r.note,
  resolvedAt: r.resolved_at,
  order: { code: r.order_code, title: r.order_title, status: r.order_status, communityCode: r.order_community_code, urgent: r.order_urgent },
});

/** Escalations a coordinator may see, as a predicate over `e`: the city all, a district coordinator its district. */
function visibleTo(actor: Actor, sql: Sql): string {
  if (actor.role === 'city_admin') return 'TRUE';
  if (actor.role === 'district_coordinator' && actor.districtCode !== null) return `e.district_code = ${sql.param(actor.districtCode)}`;
  return 'FALSE';
}

const SELECT = `SELECT e.*, o.code AS order_code, o.title AS order_title, o.status AS order_status, o.community_code AS order_community_code, o.urgent AS order_urgent
  FROM escalations e JOIN orders o ON o.id = e.order_id`;

export interface EscalationFilters {
  status?: EscalationStatus;
  districtCode?: string;
  urgent?: boolean;
}

export interface Breach {
  orderId: string;
  stage: SlaStage;
  /** The status the stage waits in, which the order must still be in. */
  status: OrderStatus;
  enteredSeq: number;
  dueAt: Date;
  breachedAt: Date;
}

@Injectable()
export class EscalationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Opens the escalation of a breached stretch of a stage, once (a timer that fires again finds
   * it). Under a share lock of the order: a transition that would resolve it waits for this
   * commit, and one that came first leaves a status (or a newer stretch) this check refuses,
   * so no escalation stays open on an order that has moved on. True when opened now.
   */
  async open(b: Breach): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [order] = await manager.query<{ status: OrderStatus; district_code: string }[]>(
        `SELECT status, district_code FROM orders WHERE id = $1 FOR SHARE`,
        [b.orderId],
      );
      if (order?.status !== b.status) return false;
      const [entry] = await manager.query<{ seq: number | null }[]>(
        `SELECT max(seq) AS seq FROM order_events WHERE order_id = $1 AND to_status = $2 AND (from_status IS DISTINCT FROM to_status OR type = ANY($3::text[]))`,
        [b.orderId, b.status, RESTARTS_STAGE],
      );
      if (entry?.seq !== b.enteredSeq) return false;
      const inserted = await manager.query<{ id: string }[]>(
        `INSERT INTO escalations (order_id, district_code, stage, entered_seq, due_at, breached_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT ON CONSTRAINT escalations_once DO NOTHING RETURNING id`,
        [b.orderId, order.district_code, b.stage, b.enteredSeq, b.dueAt, b.breachedAt],
      );
      return inserted.length > 0;
    });
  }

  /** One page, urgent orders first, then oldest breach first: (urgent DESC, breached_at, id). */
  async listVisible(scope: Actor, filters: EscalationFilters, limit: number, after?: KeysetPosition): Promise<EscalationRecord[]> {
    const sql = new Sql();
    const where = [visibleTo(scope, sql)];
    if (filters.status) where.push(`e.status = ${sql.param(filters.status)}`);
    if (filters.districtCode) where.push(`e.district_code = ${sql.param(filters.districtCode)}`);
    if (filters.urgent !== undefined) where.push(`o.urgent = ${sql.param(filters.urgent)}`);
    if (after) {
      const rank = sql.param(after.rank ?? 0);
      where.push(`(o.urgent::int < ${rank} OR (o.urgent::int = ${rank} AND (e.breached_at, e.id) > (${sql.param(after.at)}, ${sql.param(after.id)})))`);
    }
    const rows = await this.dataSource.query<EscalationRow[]>(
      `${SELECT} WHERE ${where.join(' AND ')} ORDER BY o.urgent DESC, e.breached_at, e.id LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
    return rows.map(toRecord);
  }

  async findVisible(scope: Actor, id: string): Promise<EscalationRecord | null> {
    const sql = new Sql();
    const rows = await this.dataSource.query<EscalationRow[]>(`${SELECT} WHERE e.id = ${sql.param(id)} AND ${visibleTo(scope, sql)}`, sql.params);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Acknowledges (again, with the latest note) unless resolved meanwhile: null then. */
  async acknowledge(id: string, by: string, note: string | null, at: Date): Promise<boolean> {
    const rows = rowsOf<{ id: string }>(
      await this.dataSource.query(
        `UPDATE escalations SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, note = $4 WHERE id = $1 AND status <> 'resolved' RETURNING id`,
        [id, by, at, note],
      ),
    );
    return rows.length > 0;
  }
}
