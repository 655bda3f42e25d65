import { ConflictError, type Place, type TimeWindow, type WeeklyWindow } from '@kepu/core';
import { rowsOf } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, QueryFailedError } from 'typeorm';

/** What matching needs to know about a volunteer that does not depend on the slot. */
export interface VolunteerProfile {
  id: string;
  organizationId: string;
  isActive: boolean;
  home: Place;
  skills: { topic: string; level: number }[];
  audiences: string[];
  availability: WeeklyWindow[];
  unavailable: TimeWindow[];
  maxHoursPerWeek: number;
  recentHours: number;
  averageRating: number | null;
  servedCount: number;
  noShowCount: number;
}

/** An active (invited or confirmed) assignment: time the volunteer has promised. */
export interface Holding {
  volunteerId: string;
  orderId: string;
  start: Date;
  end: Date;
}

export interface VenueRecord {
  id: string;
  name: string;
  communityCode: string;
  districtCode: string;
  ownerType: string;
  ownerId: string | null;
  capacity: number;
  accessibility: string[];
}

export interface OrderAssignment {
  id: string;
  volunteerId: string;
  status: 'invited' | 'confirmed';
  isSlotClaim: boolean;
}

export interface Invitation {
  assignmentId: string;
  volunteerId: string;
}

/** The event a scheduled order holds: its venue booked and its volunteers' time, for [start, end). */
export interface EventHold {
  orderId: string;
  organizationId: string;
  venueId: string;
  start: Date;
  end: Date;
  /** When the schedule was made (the clock's time): created_at / updated_at of what it writes. */
  at: Date;
}

interface ProfileRow {
  id: string;
  organization_id: string;
  is_active: boolean;
  home_community_code: string;
  home_subdistrict_code: string;
  home_district_code: string;
  skills: { topic: string; level: number }[];
  audiences: string[];
  availability: WeeklyWindow[];
  unavailable: { start: string; end: string }[];
  max_hours_per_week: number;
  recent_hours: number;
  average_rating: number | null;
  served_count: number;
  no_show_count: number;
}


/**
 * The exclusion constraints are the guarantee against double booking (DESIGN.md §4):
 * a violation (SQLSTATE 23P01) becomes the 409 a user understands. The statement's
 * transaction is aborted by then, so throwing rolls back everything written with it.
 */
export function asBookingConflict(error: unknown): unknown {
  if (!(error instanceof QueryFailedError)) return error;
  const { code, constraint } = error as QueryFailedError & { code?: string; constraint?: string };
  if (code !== '23P01') return error;
  if (constraint === 'bookings_no_overlap') return new ConflictError('VENUE_CONFLICT', 'A concurrent request booked the venue for an overlapping time first.');
  if (constraint === 'assignments_no_overlap') return new ConflictError('VOLUNTEER_CONFLICT', 'A concurrent request gave a volunteer an assignment at an overlapping time first.');
  return error;
}

/**
 * Advisory-lock namespaces (two-int keys, apart from the one-bigint key of database setup).
 * Writers of bookings and assignments lock the venue, then the volunteers in key order,
 * before inserting: two transactions that would both insert overlapping rows then meet
 * on the lock, and the second gets a clean exclusion violation (409) instead of the
 * deadlock that two concurrent, mutually conflicting GiST inserts can end in.
 */
const VENUE_LOCK = 7101;
const VOLUNTEER_LOCK = 7102;

export async function lockVenue(manager: EntityManager, venueId: string): Promise<void> {
  await manager.query(`SELECT pg_advisory_xact_lock(${VENUE_LOCK}, hashtext($1::text))`, [venueId]);
}

/** All the volunteers a transaction will write, at once and in key order, so lockers never wait in a circle. */
export async function lockVolunteers(manager: EntityManager, volunteerIds: readonly string[]): Promise<void> {
  if (volunteerIds.length === 0) return;
  await manager.query(
    `SELECT count(pg_advisory_xact_lock(${VOLUNTEER_LOCK}, k)) FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($1::text[]) AS id ORDER BY 1) keys`,
    [volunteerIds],
  );
}

const PROFILE_COLUMNS = `
  v.id, v.organization_id, v.is_active, v.home_community_code, v.home_subdistrict_code, v.home_district_code,
  v.audiences, v.availability, v.unavailable, v.max_hours_per_week::float8 AS max_hours_per_week,
  (SELECT coalesce(json_agg(json_build_object('topic', s.topic, 'level', s.level)), '[]') FROM volunteer_skills s WHERE s.volunteer_id = v.id) AS skills,
  st.recent_hours, st.average_rating, st.served_count, st.no_show_count`;

/** Served hours of the 90 days before `at` (the placeholder of the clock's time), rating of the events served, attendance record. */
const profileStats = (at: string): string => `
  LEFT JOIN LATERAL (
    SELECT coalesce(sum(r.hours) FILTER (WHERE r.event_start >= ${at}::timestamptz - interval '90 days'), 0)::float8 AS recent_hours,
           avg((o.rating->>'volunteers')::float8) FILTER (WHERE NOT r.is_no_show AND jsonb_typeof(o.rating->'volunteers') = 'number') AS average_rating,
           (count(*) FILTER (WHERE NOT r.is_no_show))::int AS served_count,
           (count(*) FILTER (WHERE r.is_no_show))::int AS no_show_count
    FROM service_records r JOIN orders o ON o.id = r.order_id
    WHERE r.volunteer_id = v.id
  ) st ON TRUE`;

const toProfile = (row: ProfileRow): VolunteerProfile => ({
  id: row.id,
  organizationId: row.organization_id,
  isActive: row.is_active,
  home: { communityCode: row.home_community_code, subdistrictCode: row.home_subdistrict_code, districtCode: row.home_district_code },
  skills: row.skills,
  audiences: row.audiences,
  availability: row.availability,
  unavailable: row.unavailable.map((u) => ({ start: new Date(u.start), end: new Date(u.end) })),
  maxHoursPerWeek: Number(row.max_hours_per_week),
  recentHours: Number(row.recent_hours),
  averageRating: row.average_rating === null ? null : Number(row.average_rating),
  servedCount: row.served_count,
  noShowCount: row.no_show_count,
});

/** Bookings and assignments of scheduled events; the writes run in the transaction of the order's transition. */
@Injectable()
export class SchedulingRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findVenue(id: string): Promise<VenueRecord | null> {
    const rows = await this.dataSource.query<
      { id: string; name: string; community_code: string; district_code: string; owner_type: string; owner_id: string | null; capacity: number; accessibility: string[] }[]
    >(`SELECT id, name, community_code, district_code, owner_type, owner_id, capacity, accessibility FROM venues WHERE id = $1`, [id]);
    const row = rows[0];
    return row
      ? {
          id: row.id,
          name: row.name,
          communityCode: row.community_code,
          districtCode: row.district_code,
          ownerType: row.owner_type,
          ownerId: row.owner_id,
          capacity: row.capacity,
          accessibility: row.accessibility,
        }
      : null;
  }

  /** The named volunteers that belong to the organisation (the others are simply absent). */
  async profilesOf(organizationId: string, ids: readonly string[], at: Date): Promise<VolunteerProfile[]> {
    if (ids.length === 0) return [];
    const rows = await this.dataSource.query<ProfileRow[]>(
      `SELECT ${PROFILE_COLUMNS} FROM volunteers v ${profileStats('$3')} WHERE v.organization_id = $1 AND v.id = ANY($2::uuid[])`,
      [organizationId, ids, at],
    );
    return rows.map(toProfile);
  }

  /** Active volunteers of the organisation skilled in the topic, other than `except`: who may claim an open slot. */
  async skilledProfiles(organizationId: string, topic: string, except: readonly string[], limit: number, at: Date): Promise<VolunteerProfile[]> {
    const rows = await this.dataSource.query<ProfileRow[]>(
      `SELECT ${PROFILE_COLUMNS} FROM volunteers v ${profileStats('$5')}
       WHERE v.organization_id = $1 AND v.is_active
         AND EXISTS (SELECT 1 FROM volunteer_skills s WHERE s.volunteer_id = v.id AND s.topic = $2)
         AND v.id <> ALL($3::uuid[])
       ORDER BY v.id LIMIT $4`,
      [organizationId, topic, except, limit, at],
    );
    return rows.map(toProfile);
  }

  /** Active assignments of these volunteers touching [from, to), except those of `exceptOrderId`. */
  async holdings(volunteerIds: readonly string[], from: Date, to: Date, exceptOrderId: string | null): Promise<Holding[]> {
    if (volunteerIds.length === 0) return [];
    const rows = await this.dataSource.query<{ volunteer_id: string; order_id: string; start: Date; end: Date }[]>(
      `SELECT volunteer_id, order_id, lower(during) AS start, upper(during) AS "end" FROM assignments
       WHERE volunteer_id = ANY($1::uuid[]) AND status IN ('invited','confirmed')
         AND during && tstzrange($2::timestamptz, $3::timestamptz, '[)')
         AND ($4::uuid IS NULL OR order_id <> $4::uuid)`,
      [volunteerIds, from, to, exceptOrderId],
    );
    return rows.map((r) => ({ volunteerId: r.volunteer_id, orderId: r.order_id, start: r.start, end: r.end }));
  }

  /** Another order holds the venue for an overlapping time (the friendly check before the constraint). */
  async isVenueBooked(venueId: string, start: Date, end: Date, exceptOrderId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM bookings
       WHERE venue_id = $1 AND status = 'active' AND order_id <> $4
         AND during && tstzrange($2::timestamptz, $3::timestamptz, '[)')
       LIMIT 1`,
      [venueId, start, end, exceptOrderId],
    );
    return rows.length > 0;
  }

  async activeAssignmentsOfOrder(orderId: string): Promise<OrderAssignment[]> {
    const rows = await this.dataSource.query<{ id: string; volunteer_id: string; status: 'invited' | 'confirmed'; is_slot_claim: boolean }[]>(
      `SELECT id, volunteer_id, status, is_slot_claim FROM assignments WHERE order_id = $1 AND status IN ('invited','confirmed') ORDER BY volunteer_id`,
      [orderId],
    );
    return rows.map((r) => ({ id: r.id, volunteerId: r.volunteer_id, status: r.status, isSlotClaim: r.is_slot_claim }));
  }

  /**
   * Books the venue for the event, replacing the order's active booking if it has one.
   * Runs in the transition's transaction; an overlap with another order is 409 VENUE_CONFLICT.
   */
  async book(manager: EntityManager, hold: EventHold): Promise<void> {
    try {
      await lockVenue(manager, hold.venueId);
      await manager.query(`UPDATE bookings SET status = 'cancelled' WHERE order_id = $1 AND status = 'active'`, [hold.orderId]);
      await manager.query(
        `INSERT INTO bookings (venue_id, order_id, during, status, created_at) VALUES ($1, $2, tstzrange($3::timestamptz, $4::timestamptz, '[)'), 'active', $5)`,
        [hold.venueId, hold.orderId, hold.start, hold.end, hold.at],
      );
    } catch (error) {
      throw asBookingConflict(error);
    }
  }

  /**
   * Ends the named (not slot-claimed) active assignments of volunteers no longer listed;
   * returns whose ended.
   */
  async removeUnlisted(manager: EntityManager, orderId: string, listed: readonly string[], at: Date): Promise<string[]> {
    const result = await manager.query(
      `UPDATE assignments SET status = 'cancelled', reason = 'removed when the event was rescheduled', updated_at = $3
       WHERE order_id = $1 AND status IN ('invited','confirmed') AND NOT is_slot_claim AND volunteer_id <> ALL($2::uuid[])
       RETURNING volunteer_id`,
      [orderId, listed, at],
    );
    return rowsOf<{ volunteer_id: string }>(result).map((r) => r.volunteer_id);
  }

  /**
   * Moves every active assignment of the order to the new time, keeping its status;
   * returns the volunteers who hold one. An overlap is 409 VOLUNTEER_CONFLICT.
   */
  async moveActive(manager: EntityManager, hold: EventHold): Promise<string[]> {
    try {
      const result = await manager.query(
        `UPDATE assignments SET during = tstzrange($2::timestamptz, $3::timestamptz, '[)'), updated_at = $4
         WHERE order_id = $1 AND status IN ('invited','confirmed')
         RETURNING volunteer_id`,
        [hold.orderId, hold.start, hold.end, hold.at],
      );
      return rowsOf<{ volunteer_id: string }>(result).map((r) => r.volunteer_id);
    } catch (error) {
      throw asBookingConflict(error);
    }
  }

  /** Frees what an order held when it is cancelled or released: its booking and active assignments; returns whose ended. */
  async releaseHoldings(manager: EntityManager, orderId: string, at: Date): Promise<string[]> {
    await manager.query(`UPDATE bookings SET status = 'cancelled' WHERE order_id = $1 AND status = 'active'`, [orderId]);
    const ended: unknown = await manager.query(
      `UPDATE assignments SET status = 'cancelled', updated_at = $2 WHERE order_id = $1 AND status IN ('invited','confirmed') RETURNING volunteer_id`,
      [orderId, at],
    );
    return rowsOf<{ volunteer_id: string }>(ended).map((r) => r.volunteer_id);
  }

  /** Call before writing any of these volunteers' assignments in the transaction (see lockVolunteers). */
  lockVolunteers(manager: EntityManager, volunteerIds: readonly string[]): Promise<void> {
    return lockVolunteers(manager, volunteerIds);
  }

  /** Invites volunteers by name ('invited'), with ids chosen beforehand so the outbox messages can name them. */
  async invite(manager: EntityManager, hold: EventHold, invitations: readonly Invitation[]): Promise<void> {
    if (invitations.length === 0) return;
    const sorted = [...invitations].sort((a, b) => (a.volunteerId < b.volunteerId ? -1 : 1));
    try {
      await manager.query(
        `INSERT INTO assignments (id, order_id, volunteer_id, organization_id, during, status, created_at, updated_at)
         SELECT i.id, $3, i.volunteer_id, $4, tstzrange($5::timestamptz, $6::timestamptz, '[)'), 'invited', $7, $7
         FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS i(id, volunteer_id, n)
         ORDER BY i.n`,
        [sorted.map((i) => i.assignmentId), sorted.map((i) => i.volunteerId), hold.orderId, hold.organizationId, hold.start, hold.end, hold.at],
      );
    } catch (error) {
      throw asBookingConflict(error);
    }
  }
}
