import { rowsOf, Sql } from '@kepu/db';
import type { KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Transaction } from '@kepu/orders';
import { DataSource } from 'typeorm';
import type { AssignmentStatus } from './assignments.dto';
import { asBookingConflict, lockVolunteers } from './scheduling.repository';

export interface AssignmentRecord {
  id: string;
  orderId: string;
  volunteerId: string;
  organizationId: string;
  status: AssignmentStatus;
  isSlotClaim: boolean;
  start: Date;
  end: Date;
  reason: string | null;
  order: { title: string; topic: string; communityCode: string };
  venue: { id: string; name: string; communityCode: string } | null;
}

interface AssignmentRow {
  id: string;
  order_id: string;
  volunteer_id: string;
  organization_id: string;
  status: AssignmentStatus;
  is_slot_claim: boolean;
  start: Date;
  end: Date;
  reason: string | null;
  title: string;
  topic: string;
  community_code: string;
  venue_id: string | null;
  venue_name: string | null;
  venue_community_code: string | null;
}

const SELECT_ASSIGNMENT = `
  SELECT a.id, a.order_id, a.volunteer_id, a.organization_id, a.status, a.is_slot_claim, lower(a.during) AS start, upper(a.during) AS "end", a.reason,
         o.title, o.topic, o.community_code, ve.id AS venue_id, ve.name AS venue_name, ve.community_code AS venue_community_code
  FROM assignments a JOIN orders o ON o.id = a.order_id LEFT JOIN venues ve ON ve.id = o.venue_id`;

const toRecord = (row: AssignmentRow): AssignmentRecord => ({
  id: row.id,
  orderId: row.order_id,
  volunteerId: row.volunteer_id,
  organizationId: row.organization_id,
  status: row.status,
  isSlotClaim: row.is_slot_claim,
  start: row.start,
  end: row.end,
  reason: row.reason,
  order: { title: row.title, topic: row.topic, communityCode: row.community_code },
  venue: row.venue_id ? { id: row.venue_id, name: row.venue_name ?? '', communityCode: row.venue_community_code ?? '' } : null,
});

/** A scheduled event of the volunteer's organisation, as a claim or an open-task listing needs it. */
export interface ClaimableOrder {
  id: string;
  title: string;
  topic: string;
  audience: string;
  communityCode: string;
  subdistrictCode: string;
  districtCode: string;
  start: Date;
  end: Date;
  openSlots: number;
  venue: { id: string; name: string; communityCode: string } | null;
}

interface ClaimableRow {
  id: string;
  title: string;
  topic: string;
  audience: string;
  community_code: string;
  subdistrict_code: string;
  district_code: string;
  scheduled_start: Date;
  scheduled_end: Date;
  open_slots: number;
  venue_id: string | null;
  venue_name: string | null;
  venue_community_code: string | null;
}

const SELECT_CLAIMABLE = `
  SELECT o.id, o.title, o.topic, o.audience, o.community_code, o.subdistrict_code, o.district_code, o.scheduled_start, o.scheduled_end, o.open_slots,
         ve.id AS venue_id, ve.name AS venue_name, ve.community_code AS venue_community_code
  FROM orders o LEFT JOIN venues ve ON ve.id = o.venue_id`;

const toClaimable = (row: ClaimableRow): ClaimableOrder => ({
  id: row.id,
  title: row.title,
  topic: row.topic,
  audience: row.audience,
  communityCode: row.community_code,
  subdistrictCode: row.subdistrict_code,
  districtCode: row.district_code,
  start: row.scheduled_start,
  end: row.scheduled_end,
  openSlots: row.open_slots,
  venue: row.venue_id ? { id: row.venue_id, name: row.venue_name ?? '', communityCode: row.venue_community_code ?? '' } : null,
});

export interface Departure {
  assignmentId: string;
  volunteerId: string;
  to: 'declined' | 'withdrawn';
  from: readonly AssignmentStatus[];
  reason: string | null;
  now: Date;
}

export interface EndedAssignment {
  orderId: string;
  organizationId: string;
  isSlotClaim: boolean;
}

/**
 * A volunteer's own assignments and the claims on open slots. Every read and write
 * names the volunteer (scope in the signature); changes to the order row keep the
 * event log's shape: version + 1, one order_events row with seq = the new version.
 */
@Injectable()
export class AssignmentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The organisation of a volunteer profile (a resident volunteer's token names none). */
  async organizationOfVolunteer(volunteerId: string): Promise<string | null> {
    const rows = await this.dataSource.query<{ organization_id: string }[]>(`SELECT organization_id FROM volunteers WHERE id = $1`, [volunteerId]);
    return rows[0]?.organization_id ?? null;
  }

  /** One page, newest event first: (start DESC, id DESC), limit + 1 rows. */
  async listForVolunteer(volunteerId: string, status: AssignmentStatus | undefined, limit: number, after?: KeysetPosition): Promise<AssignmentRecord[]> {
    const sql = new Sql();
    const where = [`a.volunteer_id = ${sql.param(volunteerId)}`];
    if (status) where.push(`a.status = ${sql.param(status)}`);
    if (after) where.push(`(lower(a.during), a.id) < (${sql.param(after.at)}::timestamptz, ${sql.param(after.id)}::uuid)`);
    const rows = await this.dataSource.query<AssignmentRow[]>(
      `${SELECT_ASSIGNMENT} WHERE ${where.join(' AND ')} ORDER BY lower(a.during) DESC, a.id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
    return rows.map(toRecord);
  }

  async findForVolunteer(volunteerId: string, assignmentId: string): Promise<AssignmentRecord | null> {
    const rows = await this.dataSource.query<AssignmentRow[]>(`${SELECT_ASSIGNMENT} WHERE a.id = $1 AND a.volunteer_id = $2`, [assignmentId, volunteerId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** invited → confirmed before the event starts; false when the assignment moved on meanwhile. */
  async confirm(volunteerId: string, assignmentId: string, now: Date): Promise<boolean> {
    const result = await this.dataSource.query(
      `UPDATE assignments SET status = 'confirmed', updated_at = $3
       WHERE id = $1 AND volunteer_id = $2 AND status = 'invited' AND lower(during) > $3
       RETURNING id`,
      [assignmentId, volunteerId, now],
    );
    return rowsOf(result).length > 0;
  }

  /**
   * Decline or withdraw, before the event starts, in the caller's transaction: the
   * assignment ends. Null when it moved on meanwhile.
   */
  async end(tx: Transaction, departure: Departure): Promise<EndedAssignment | null> {
    const [ended] = rowsOf<{ order_id: string; organization_id: string; is_slot_claim: boolean }>(
      await tx.query(
        `UPDATE assignments SET status = $3, reason = $4, updated_at = $6
         WHERE id = $1 AND volunteer_id = $2 AND status = ANY($5::text[]) AND lower(during) > $6
         RETURNING order_id, organization_id, is_slot_claim`,
        [departure.assignmentId, departure.volunteerId, departure.to, departure.reason, departure.from, departure.now],
      ),
    );
    return ended ? { orderId: ended.order_id, organizationId: ended.organization_id, isSlotClaim: ended.is_slot_claim } : null;
  }

  /** The organisation hears of a departure through the outbox, with the reason (which stays out of the order's event log). */
  async tellOrganization(tx: Transaction, type: string, orderId: string, payload: Record<string, unknown>, at: Date): Promise<void> {
    await tx.query(`INSERT INTO outbox (type, order_id, payload, created_at) VALUES ($1, $2, $3, $4)`, [type, orderId, JSON.stringify(payload), at]);
  }

  /** The scheduled event of the organisation, or null (absent, another organisation's, or not scheduled). */
  async findClaimable(organizationId: string, orderId: string): Promise<ClaimableOrder | null> {
    const rows = await this.dataSource.query<ClaimableRow[]>(`${SELECT_CLAIMABLE} WHERE o.id = $1 AND o.organization_id = $2 AND o.status = 'scheduled'`, [
      orderId,
      organizationId,
    ]);
    return rows[0] ? toClaimable(rows[0]) : null;
  }

  /** Future events of the organisation with open slots in the volunteer's topics that the volunteer is not on yet, soonest first. */
  async openEvents(organizationId: string, volunteerId: string, topics: readonly string[], now: Date, limit: number): Promise<ClaimableOrder[]> {
    if (topics.length === 0) return [];
    const rows = await this.dataSource.query<ClaimableRow[]>(
      `${SELECT_CLAIMABLE}
       WHERE o.organization_id = $1 AND o.status = 'scheduled' AND o.open_slots > 0 AND o.scheduled_start > $3 AND o.topic = ANY($4::text[])
         AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.order_id = o.id AND a.volunteer_id = $2 AND a.status IN ('invited','confirmed'))
       ORDER BY o.scheduled_start, o.id LIMIT $5`,
      [organizationId, volunteerId, now, topics, limit],
    );
    return rows.map(toClaimable);
  }

  async isOnEvent(orderId: string, volunteerId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM assignments WHERE order_id = $1 AND volunteer_id = $2 AND status IN ('invited','confirmed') LIMIT 1`,
      [orderId, volunteerId],
    );
    return rows.length > 0;
  }

  /**
   * The claimer's confirmed assignment, in the transaction that took the slot; the
   * exclusion constraint guards the volunteer's time (409 VOLUNTEER_CONFLICT).
   */
  async insertClaim(tx: Transaction, claim: { assignmentId: string; orderId: string; volunteerId: string; organizationId: string; start: Date; end: Date; at: Date }): Promise<void> {
    try {
      await lockVolunteers(tx, [claim.volunteerId]);
      await tx.query(
        `INSERT INTO assignments (id, order_id, volunteer_id, organization_id, during, status, is_slot_claim, created_at, updated_at)
         VALUES ($1, $2, $3, $4, tstzrange($5::timestamptz, $6::timestamptz, '[)'), 'confirmed', true, $7, $7)`,
        [claim.assignmentId, claim.orderId, claim.volunteerId, claim.organizationId, claim.start, claim.end, claim.at],
      );
    } catch (error) {
      throw asBookingConflict(error);
    }
  }
}
