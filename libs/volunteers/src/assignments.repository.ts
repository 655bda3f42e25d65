import { type Actor, OrderStateConflictError } from '@kepu/core';
import { rowsOf, Sql } from '@kepu/db';
import type { KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AssignmentStatus } from './assignments.dto';
import { MAX_OPEN_SLOTS } from './scheduling.dto';
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
  actor: Actor;
  now: Date;
}

export type ClaimOutcome = { kind: 'claimed'; assignmentId: string } | { kind: 'full' } | { kind: 'gone' };

/**
 * A volunteer's own assignments and the claims on open slots. Every read and write
 * names the volunteer (scope in the signature); changes to the order row keep the
 * event log's shape: version + 1, one order_events row with seq = the new version.
 */
@Injectable()
export class AssignmentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

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
      `UPDATE assignments SET status = 'confirmed', updated_at = now()
       WHERE id = $1 AND volunteer_id = $2 AND status = 'invited' AND lower(during) > $3
       RETURNING id`,
      [assignmentId, volunteerId, now],
    );
    return rowsOf(result).length > 0;
  }

  /**
   * Decline or withdraw, before the event starts: the assignment ends, a claimed slot
   * reopens (order version + 1 and its event), and the organisation is told through
   * the outbox, all in one transaction. False when the assignment moved on meanwhile.
   */
  async leave(departure: Departure): Promise<boolean> {
    const { actor } = departure;
    return this.dataSource.transaction(async (manager) => {
      // The order row first, as every transition and claim takes it: a reschedule moving this
      // assignment and this departure then queue one behind the other instead of deadlocking.
      await manager.query(`SELECT 1 FROM orders WHERE id = (SELECT order_id FROM assignments WHERE id = $1) FOR UPDATE`, [departure.assignmentId]);
      const [ended] = rowsOf<{ order_id: string; organization_id: string; is_slot_claim: boolean }>(
        await manager.query(
          `UPDATE assignments SET status = $3, reason = $4, updated_at = now()
           WHERE id = $1 AND volunteer_id = $2 AND status = ANY($5::text[]) AND lower(during) > $6
           RETURNING order_id, organization_id, is_slot_claim`,
          [departure.assignmentId, departure.volunteerId, departure.to, departure.reason, departure.from, departure.now],
        ),
      );
      if (!ended) return false;
      const type = `assignment.${departure.to}`;
      const facts = { orderId: ended.order_id, assignmentId: departure.assignmentId, volunteerId: departure.volunteerId, isSlotClaim: ended.is_slot_claim };
      let eventSeq: number | undefined;
      if (ended.is_slot_claim) {
        // The open_slots check (≤ 50) must hold even if a reschedule reopened the maximum meanwhile.
        const [order] = rowsOf<{ version: number; updated_at: Date; open_slots: number }>(
          await manager.query(
            `UPDATE orders SET open_slots = LEAST(open_slots + 1, ${MAX_OPEN_SLOTS}), version = version + 1, updated_at = now()
             WHERE id = $1 AND status = 'scheduled'
             RETURNING version, updated_at, open_slots`,
            [ended.order_id],
          ),
        );
        if (order) {
          eventSeq = order.version;
          await this.appendEvent(manager, ended.order_id, order.version, type, actor, { ...facts, openSlots: order.open_slots }, order.updated_at);
        }
      }
      // The reason goes to the organisation only, not into the order's event log that the requester reads.
      await manager.query(`INSERT INTO outbox (type, order_id, payload) VALUES ($1, $2, $3)`, [
        type,
        ended.order_id,
        JSON.stringify({
          ...facts,
          organizationId: ended.organization_id,
          reason: departure.reason,
          actorId: actor.userId,
          actorRole: actor.role,
          ...(eventSeq === undefined ? {} : { eventSeq }),
        }),
      ]);
      return true;
    });
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
   * Takes one open slot: the conditional decrement is the capacity guard (with 3 slots
   * and 30 claimers, exactly 3 updates find open_slots > 0: each waits for the row lock
   * of the one before and re-checks), the exclusion constraint guards the volunteer's
   * time, and both commit together or not at all. `expected` is the time the
   * eligibility was checked for: a reschedule in between is a conflict, not a silent move.
   */
  async claim(actor: Actor, organizationId: string, volunteerId: string, assignmentId: string, orderId: string, expected: { start: Date; end: Date }): Promise<ClaimOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const [order] = rowsOf<{ version: number; updated_at: Date; open_slots: number; scheduled_start: Date; scheduled_end: Date }>(
        await manager.query(
          `UPDATE orders SET open_slots = open_slots - 1, version = version + 1, updated_at = now()
           WHERE id = $1 AND organization_id = $2 AND status = 'scheduled' AND open_slots > 0
           RETURNING version, updated_at, open_slots, scheduled_start, scheduled_end`,
          [orderId, organizationId],
        ),
      );
      if (!order) {
        const [now] = await manager.query<{ status: string }[]>(`SELECT status FROM orders WHERE id = $1`, [orderId]);
        return { kind: now?.status === 'scheduled' ? 'full' : 'gone' };
      }
      if (order.scheduled_start.getTime() !== expected.start.getTime() || order.scheduled_end.getTime() !== expected.end.getTime())
        throw new OrderStateConflictError('The event was rescheduled while you claimed; look at it again.');
      try {
        await lockVolunteers(manager, [volunteerId]);
        await manager.query(
          `INSERT INTO assignments (id, order_id, volunteer_id, organization_id, during, status, is_slot_claim)
           VALUES ($1, $2, $3, $4, tstzrange($5::timestamptz, $6::timestamptz, '[)'), 'confirmed', true)`,
          [assignmentId, orderId, volunteerId, organizationId, order.scheduled_start, order.scheduled_end],
        );
      } catch (error) {
        throw asBookingConflict(error);
      }
      await this.appendEvent(manager, orderId, order.version, 'assignment.claimed', actor, { orderId, assignmentId, volunteerId, openSlots: order.open_slots }, order.updated_at);
      return { kind: 'claimed', assignmentId };
    });
  }

  /** An event that keeps the status (scheduled → scheduled), seq = the version the change produced. */
  private async appendEvent(manager: EntityManager, orderId: string, seq: number, type: string, actor: Actor, payload: Record<string, unknown>, at: Date): Promise<void> {
    await manager.query(
      `INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_id, actor_role, payload, at)
       VALUES ($1, $2, $3, 'scheduled', 'scheduled', $4, $5, $6, $7)`,
      [orderId, seq, type, actor.userId, actor.role, JSON.stringify(payload), at],
    );
  }
}
