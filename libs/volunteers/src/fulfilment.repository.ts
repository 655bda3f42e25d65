import { type Actor, serviceHours } from '@kepu/core';
import { rowsOf, Sql } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AssignmentStatus } from './assignments.dto';
import { volunteerVisibleTo } from './volunteers.repository';

export interface ServiceRecordRow {
  order_id: string;
  volunteer_id: string;
  check_in_at: Date | null;
  check_out_at: Date | null;
  hours: string;
  is_no_show: boolean;
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

  /** Records a check-in inside a transition (the first one) or on its own; false when already checked in. */
  async checkIn(manager: EntityManager | null, orderId: string, volunteerId: string, eventStart: Date, eventEnd: Date, at: Date): Promise<boolean> {
    const runner = manager ?? this.dataSource.manager;
    const rows = await runner.query<{ id: string }[]>(
      `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ON CONSTRAINT service_records_once DO NOTHING RETURNING id`,
      [orderId, volunteerId, eventStart, eventEnd, at],
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
   * At completion: open check-ins close at the event end, and confirmed volunteers
   * who never checked in are recorded as no-shows (it lowers their reliability).
   */
  async closeRecords(manager: EntityManager, orderId: string, eventStart: Date, eventEnd: Date): Promise<void> {
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
      `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, is_no_show)
       SELECT a.order_id, a.volunteer_id, $2, $3, true FROM assignments a
       WHERE a.order_id = $1 AND a.status = 'confirmed'
       ON CONFLICT ON CONSTRAINT service_records_once DO NOTHING`,
      [orderId, eventStart, eventEnd],
    );
  }

  /** Every assignment of the order (bounded: 20 named and 50 slots per schedule), with its service record if any, in the order they were made. */
  async assignmentsOfOrder(orderId: string): Promise<OrderAssignmentRow[]> {
    return this.dataSource.query<OrderAssignmentRow[]>(
      `SELECT a.id, a.volunteer_id, v.display_name, a.status, a.is_slot_claim, lower(a.during) AS start, upper(a.during) AS "end", a.reason,
              sr.check_in_at, sr.check_out_at, sr.hours, sr.is_no_show
       FROM assignments a
       JOIN volunteers v ON v.id = a.volunteer_id
       LEFT JOIN service_records sr ON sr.order_id = a.order_id AND sr.volunteer_id = a.volunteer_id
       WHERE a.order_id = $1
       ORDER BY a.created_at, a.id`,
      [orderId],
    );
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
