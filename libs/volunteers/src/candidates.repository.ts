import type { LocalSlot, VenueFacts, VolunteerFacts, WeeklyWindow } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface VolunteerFactsQuery {
  organizationId: string;
  topic: string;
  /** The order being matched: its own assignments do not make anyone busy (a reschedule). */
  orderId: string;
  start: Date;
  end: Date;
  /** Monday 00:00 Shanghai of the slot's week, and seven days later. */
  weekStart: Date;
  weekEnd: Date;
  /** The slot in Beijing wall time (weekday, start and end minutes), as libs/core reads it. */
  local: LocalSlot;
}

export interface VenueFactsQuery {
  districtCode: string;
  orderId: string;
  start: Date;
  end: Date;
  expectedAttendance: number;
  accessibilityNeeds: readonly string[];
  place: { communityCode: string; subdistrictCode: string };
}

export type VolunteerCandidateFacts = VolunteerFacts & { displayName: string };
export type VenueCandidateFacts = VenueFacts & { name: string; kind: string };

/** Enough to rank a district's venues: they come nearest and tightest first, so the best are never cut. */
const MAX_VENUE_ROWS = 1000;

/** One volunteer as the statement returns it: a JSON array in this order. */
type VolunteerTuple = [
  id: string,
  displayName: string,
  isActive: boolean,
  communityCode: string,
  subdistrictCode: string,
  districtCode: string,
  level: number,
  audiences: string[],
  availability: WeeklyWindow[],
  unavailable: { start: string; end: string }[],
  maxHoursPerWeek: number,
  bookedHours: number,
  hasOverlap: boolean,
  recentHours: number,
  averageRating: number | null,
  servedCount: number,
  noShowCount: number,
];

type VenueTuple = [id: string, name: string, kind: string, capacity: number, accessibility: string[], communityCode: string, subdistrictCode: string, districtCode: string, isFree: boolean];

/**
 * The facts matching needs (libs/core matching.ts), gathered in one statement
 * each. The rules themselves stay in libs/core; the SQL only narrows the rows
 * to those that could pass them (volunteers: active, skilled in the topic,
 * available, free and under the weekly cap; venues large and accessible
 * enough), which core checks again.
 */
@Injectable()
export class CandidatesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async volunteerFacts(q: VolunteerFactsQuery): Promise<VolunteerCandidateFacts[]> {
    // The pool comes from two index-only scans (the organisation's active volunteers, the
    // topic's skills); only its rows are then read from the table, and only those that can
    // pass every hard filter leave the database: a weekly window covering the slot's local
    // times, no dated exception inside it, no overlapping assignment, room under the weekly
    // cap. The filters are written to keep anyone libs/core could keep (an exception must
    // overlap by more than a millisecond, the cap has a thousandth of an hour to spare);
    // core decides again on the facts returned. The record (served, no-shows, rating) is
    // one primary-key read of volunteer_stats, kept by triggers; the hours of the last
    // 90 days one index-only range scan. The rows travel as one JSON array: parsed in one
    // native call instead of hundreds of rows of typed columns.
    const [row] = await this.dataSource.query<{ facts: VolunteerTuple[] }[]>(
      `WITH pool AS MATERIALIZED (
         SELECT s.volunteer_id AS id, s.level
         FROM volunteers m JOIN volunteer_skills s ON s.volunteer_id = m.id AND s.topic = $2
         WHERE m.organization_id = $1 AND m.is_active
       ),
       candidate AS MATERIALIZED (
         SELECT v.id, v.display_name, v.is_active, v.home_community_code, v.home_subdistrict_code, v.home_district_code,
                p.level, v.audiences, v.availability, v.unavailable, v.max_hours_per_week
         FROM pool p JOIN volunteers v ON v.id = p.id
         WHERE v.availability @> $8::jsonb
           AND EXISTS (
             SELECT 1 FROM jsonb_array_elements(v.availability) w
             WHERE (w->>'weekday')::int = $9
               AND split_part(w->>'start', ':', 1)::int * 60 + split_part(w->>'start', ':', 2)::int <= $10
               AND split_part(w->>'end', ':', 1)::int * 60 + split_part(w->>'end', ':', 2)::int >= $11)
           AND NOT EXISTS (
             SELECT 1 FROM jsonb_array_elements(v.unavailable) u
             WHERE (u->>'start')::timestamptz < $5::timestamptz - interval '1 millisecond'
               AND (u->>'end')::timestamptz > $4::timestamptz + interval '1 millisecond')
       ),
       free AS (
         SELECT c.*, a.booked_hours, a.has_overlap
         FROM candidate c
         CROSS JOIN LATERAL (
           -- active assignments touching the slot's week (or the slot): hours inside the week, and any overlap
           SELECT coalesce(sum(extract(epoch FROM least(upper(a.during), $7::timestamptz) - greatest(lower(a.during), $6::timestamptz)))
                    FILTER (WHERE a.during && tstzrange($6::timestamptz, $7::timestamptz)), 0)::float8 / 3600 AS booked_hours,
                  coalesce(bool_or(a.during && tstzrange($4::timestamptz, $5::timestamptz)), false) AS has_overlap
           FROM assignments a
           WHERE a.volunteer_id = c.id AND a.status IN ('invited','confirmed') AND a.order_id <> $3
             AND a.during && tstzrange(least($4::timestamptz, $6::timestamptz), greatest($5::timestamptz, $7::timestamptz))
         ) a
         WHERE NOT a.has_overlap AND a.booked_hours + $12 <= c.max_hours_per_week + 0.001
       )
       SELECT coalesce(json_agg(json_build_array(
                c.id, c.display_name, c.is_active, c.home_community_code, c.home_subdistrict_code, c.home_district_code,
                c.level, c.audiences, c.availability, c.unavailable, c.max_hours_per_week, c.booked_hours, c.has_overlap,
                coalesce(r.recent_hours, 0), CASE WHEN st.rated_count > 0 THEN (st.rating_sum / st.rated_count)::float8 END,
                coalesce(st.served_count, 0), coalesce(st.no_show_count, 0))), '[]') AS facts
       FROM free c
       LEFT JOIN volunteer_stats st ON st.volunteer_id = c.id
       CROSS JOIN LATERAL (
         SELECT sum(sr.hours)::float8 AS recent_hours FROM service_records sr
         WHERE sr.volunteer_id = c.id AND sr.event_start >= now() - interval '90 days'
       ) r`,
      [
        q.organizationId,
        q.topic,
        q.orderId,
        q.start,
        q.end,
        q.weekStart,
        q.weekEnd,
        JSON.stringify([{ weekday: q.local.weekday }]),
        q.local.weekday,
        q.local.startMinutes,
        q.local.endMinutes,
        (q.end.getTime() - q.start.getTime()) / 3600_000,
      ],
    );
    return (row?.facts ?? []).map(
      ([id, displayName, isActive, communityCode, subdistrictCode, districtCode, level, audiences, availability, unavailable, maxHoursPerWeek, bookedHours, hasOverlap, recentHours, averageRating, servedCount, noShowCount]) => ({
        id,
        displayName,
        isActive,
        home: { communityCode, subdistrictCode, districtCode },
        skills: [{ topic: q.topic, level }],
        audiences,
        availability,
        unavailable: unavailable.map((u) => ({ start: new Date(u.start), end: new Date(u.end) })),
        maxHoursPerWeek,
        bookedHoursThatWeek: bookedHours,
        hasOverlappingAssignment: hasOverlap,
        recentHours,
        averageRating,
        servedCount,
        noShowCount,
      }),
    );
  }

  async venueFacts(q: VenueFactsQuery): Promise<VenueCandidateFacts[]> {
    const [row] = await this.dataSource.query<{ facts: VenueTuple[] }[]>(
      `SELECT coalesce(json_agg(json_build_array(ve.id, ve.name, ve.kind, ve.capacity, ve.accessibility, ve.community_code, ve.subdistrict_code, ve.district_code, ve.is_free)), '[]') AS facts
       FROM (
         SELECT ve.*, NOT EXISTS (
                  SELECT 1 FROM bookings b
                  WHERE b.venue_id = ve.id AND b.status = 'active' AND b.order_id <> $2 AND b.during && tstzrange($3::timestamptz, $4::timestamptz)
                ) AS is_free
         FROM venues ve
         WHERE ve.district_code = $1 AND ve.capacity >= $5 AND ve.accessibility @> $6::text[]
         ORDER BY (ve.community_code = $7) DESC, (ve.subdistrict_code = $8) DESC, ve.capacity, ve.id
         LIMIT ${MAX_VENUE_ROWS}
       ) ve`,
      [q.districtCode, q.orderId, q.start, q.end, q.expectedAttendance, q.accessibilityNeeds, q.place.communityCode, q.place.subdistrictCode],
    );
    return (row?.facts ?? []).map(([id, name, kind, capacity, accessibility, communityCode, subdistrictCode, districtCode, isFree]) => ({
      id,
      name,
      kind,
      capacity,
      accessibility,
      place: { communityCode, subdistrictCode, districtCode },
      isFree,
    }));
  }
}
