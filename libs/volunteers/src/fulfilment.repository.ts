import { type Actor, serviceHours } from '@kepu/core';
import { rowsOf, Sql } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { KeysetPosition } from '@kepu/http';
import type { AssignmentStatus } from './assignments.dto';
import { volunteerVisibleTo } from './volunteers.repository';

export interface ServiceRecordRow {
  order_id: string;
  volunteer_id: string;
  check_in_at: Date | null;
  check_out_at: Date | null;
  hours: string;
  is_no_show: boolean;
  verified: boolean;
  event_start: Date;
  event_end: Date;
}

export interface OrderAssignmentRow {
  id: string;
  volunteer_id: string;
  display_name: string;
  status: AssignmentStatus;
  is_slot_claim: boolean;
  start: Date;
  end: Date;
  reason: string | null;
  check_in_at: Date | null;
  check_out_at: Date | null;
  hours: string | null;
  is_no_show: boolean | null;
  verified: boolean | null;
  created_at: Date;
}

@Injectable()
export class FulfilmentRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async isConfirmed(orderId: string, volunteerId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM assignments WHERE order_id = $1 AND volunteer_id = $2 AND status = 'confirmed'`,
      [orderId, volunteerId],
    );
    return rows.length > 0;
  }

  /** Records a check-in (verified: made with the venue's code) inside a transition (the first one) or on its own; false when already checked in. */
  async checkIn(manager: EntityManager | null, orderId: string, volunteerId: string, eventStart: Date, eventEnd: Date, at: Date, verified = false): Promise<boolean> {
    const runner = manager ?? this.dataSource.manager;
    const rows = await runner.query<{ id: string }[]>(
      `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at, created_at, verified) VALUES ($1, $2, $3, $4, $5, $5, $6)
       ON CONFLICT ON CONSTRAINT service_records_once DO NOTHING RETURNING id`,
      [orderId, volunteerId, eventStart, eventEnd, at, verified],
    );
    return rows.length > 0;
  }

  /** Sets check-out and the hours once; null when there was no open check-in. */
  async checkOut(orderId: string, volunteerId: string, at: Date): Promise<ServiceRecordRow | null> {
    return this.dataSource.transaction(async (manager) => {
      const [record] = await manager.query<ServiceRecordRow[]>(
        `SELECT * FROM service_records WHERE order_id = $1 AND volunteer_id = $2 AND check_in_at IS NOT NULL AND check_out_at IS NULL FOR UPDATE`,
        [orderId, volunteerId],
      );
      if (!record?.check_in_at) return null;
      const hours = serviceHours(record.check_in_at, at, record.event_start, record.event_end);
      const updated = rowsOf<ServiceRecordRow>(
        await manager.query(`UPDATE service_records SET check_out_at = $3, hours = $4 WHERE order_id = $1 AND volunteer_id = $2 RETURNING *`, [
          orderId,
          volunteerId,
          at,
          hours,
        ]),
      );
      return updated[0] ?? null;
    });
  }

  /**
   * The people whose tickets were scanned at the door of the order's published event
   * (libs/events' table, read only); null when the order was never published.
   */
  async attendedAtEvent(manager: EntityManager, orderId: string): Promise<number | null> {
    const rows = await manager.query<{ attended: string | null }[]>(
      `SELECT (SELECT coalesce(sum(s.attendees), 0) FROM event_signups s WHERE s.order_id = e.order_id AND s.attended_at IS NOT NULL) AS attended
       FROM events e WHERE e.order_id = $1`,
      [orderId],
    );
    return rows[0] ? Number(rows[0].attended) : null;
  }

  /**
   * At completion: open check-ins close at the event end, and confirmed volunteers
   * who never checked in are recorded as no-shows (it lowers their reliability).
   */
  async closeRecords(manager: EntityManager, orderId: string, eventStart: Date, eventEnd: Date, at: Date): Promise<void> {
    const open = await manager.query<{ volunteer_id: string; check_in_at: Date }[]>(
      `SELECT volunteer_id, check_in_at FROM service_records WHERE order_id = $1 AND check_out_at IS NULL AND check_in_at IS NOT NULL`,
      [orderId],
    );
    for (const record of open)
      await manager.query(`UPDATE service_records SET check_out_at = $3, hours = $4 WHERE order_id = $1 AND volunteer_id = $2`, [
        orderId,
        record.volunteer_id,
        eventEnd,
        serviceHours(record.check_in_at, eventEnd, eventStart, eventEnd),
      ]);
    await manager.query(
      `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, is_no_show, created_at)
       SELECT a.order_id, a.volunteer_id, $2, $3, true, $4 FROM assignments a
       WHERE a.order_id = $1 AND a.status = 'confirmed'
       ON CONFLICT ON CONSTRAINT service_records_once DO NOTHING`,
      [orderId, eventStart, eventEnd, at],
    );
  }

  /** Every assignment of the order (bounded: 20 named and 50 slots per schedule), with its service record if any, in the order they were made. */
  /** Up to `limit` assignments of the order in the order they were made, after the keyset position `after`. */
  async assignmentsOfOrder(orderId: string, limit: number, after?: KeysetPosition): Promise<OrderAssignmentRow[]> {
    const sql = new Sql();
    const where = [`a.order_id = ${sql.param(orderId)}`];
    if (after) where.push(`(a.created_at, a.id) > (${sql.param(after.at)}, ${sql.param(after.id)})`);
    return this.dataSource.query<OrderAssignmentRow[]>(
      `SELECT a.id, a.volunteer_id, v.display_name, a.status, a.is_slot_claim, lower(a.during) AS start, upper(a.during) AS "end", a.reason,
              sr.check_in_at, sr.check_out_at, sr.hours, sr.is_no_show, sr.verified, a.created_at
       FROM assignments a
       JOIN volunteers v ON v.id = a.volunteer_id
       LEFT JOIN service_records sr ON sr.order_id = a.order_id AND sr.volunteer_id = a.volunteer_id
       WHERE ${where.join(' AND ')}
       ORDER BY a.created_at, a.id
       LIMIT ${sql.param(limit)}`,
      sql.params,
    );
  }

  /** Whether the volunteer is invited to or confirmed on the order's team. */
  async isOnTeam(orderId: string, volunteerId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM assignments WHERE order_id = $1 AND volunteer_id = $2 AND status IN ('invited', 'confirmed') LIMIT 1`,
      [orderId, volunteerId],
    );
    return rows.length > 0;
  }

  /**
   * The volunteer's id when `scope` may see their service records, else null: whoever sees
   * the volunteer, and also the coordinators of the volunteer's home district.
   */
  async findVisibleVolunteer(scope: Actor, id: string): Promise<string | null> {
    const sql = new Sql();
    const homeDistrict = scope.role === 'district_coordinator' ? ` OR v.home_district_code = ${sql.param(scope.districtCode)}` : '';
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT v.id FROM volunteers v WHERE v.id = ${sql.param(id)} AND (${volunteerVisibleTo(scope, sql)}${homeDistrict})`,
      sql.params,
    );
    return rows[0]?.id ?? null;
  }

  /** A volunteer's records, newest event first; bounded so a long career still answers fast. */
  async serviceRecords(volunteerId: string, limit = 1000): Promise<(ServiceRecordRow & { code: string; title: string; topic: string })[]> {
    return this.dataSource.query(
      `SELECT s.*, o.code, o.title, o.topic FROM service_records s JOIN orders o ON o.id = s.order_id
       WHERE s.volunteer_id = $1 ORDER BY s.event_start DESC LIMIT $2`,
      [volunteerId, limit],
    );
  }

  async totalHours(volunteerId: string): Promise<number> {
    const rows = await this.dataSource.query<{ total: string | null }[]>(`SELECT sum(hours) AS total FROM service_records WHERE volunteer_id = $1`, [volunteerId]);
    return Number(rows[0]?.total ?? 0);
  }
}
