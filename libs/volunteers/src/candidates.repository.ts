import type { VenueFacts, VolunteerFacts, WeeklyWindow } from '@kepu/core';
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
  /** ISO weekday of the slot in Shanghai. */
  weekday: number;
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

interface VolunteerFactsRow {
  id: string;
  display_name: string;
  is_active: boolean;
  home_community_code: string;
  home_subdistrict_code: string;
  home_district_code: string;
  level: number;
  audiences: string[];
  availability: WeeklyWindow[];
  unavailable: { start: string; end: string }[];
  max_hours_per_week: number;
  booked_hours: number;
  has_overlap: boolean;
  recent_hours: number;
  average_rating: number | null;
  served_count: number;
  no_show_count: number;
}

interface VenueFactsRow {
  id: string;
  name: string;
  kind: string;
  capacity: number;
  accessibility: string[];
  community_code: string;
  subdistrict_code: string;
  district_code: string;
  is_free: boolean;
}

/**
 * The facts matching needs (libs/core matching.ts), gathered in one statement
 * each. The rules themselves stay in libs/core; the SQL only narrows the rows
 * to those that could pass them (skilled in the topic, active, some window on
 * the slot's weekday; venues large and accessible enough), which core checks again.
 */
@Injectable()
export class CandidatesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async volunteerFacts(q: VolunteerFactsQuery): Promise<VolunteerCandidateFacts[]> {
    const rows = await this.dataSource.query<VolunteerFactsRow[]>(
      `SELECT v.id, v.display_name, v.is_active, v.home_community_code, v.home_subdistrict_code, v.home_district_code,
              s.level, v.audiences, v.availability, v.unavailable, v.max_hours_per_week::float8 AS max_hours_per_week,
              a.booked_hours, a.has_overlap, r.recent_hours, r.average_rating, r.served_count, r.no_show_count
       FROM volunteer_skills s
       JOIN volunteers v ON v.id = s.volunteer_id
       CROSS JOIN LATERAL (
         -- active assignments touching the slot's week (or the slot): hours inside the week, and any overlap
         SELECT coalesce(sum(extract(epoch FROM least(upper(a.during), $7::timestamptz) - greatest(lower(a.during), $6::timestamptz)))
                  FILTER (WHERE a.during && tstzrange($6::timestamptz, $7::timestamptz)), 0)::float8 / 3600 AS booked_hours,
                coalesce(bool_or(a.during && tstzrange($4::timestamptz, $5::timestamptz)), false) AS has_overlap
         FROM assignments a
         WHERE a.volunteer_id = v.id AND a.status IN ('invited','confirmed') AND a.order_id <> $3
           AND a.during && tstzrange(least($4::timestamptz, $6::timestamptz), greatest($5::timestamptz, $7::timestamptz))
       ) a
       CROSS JOIN LATERAL (
         SELECT coalesce(sum(sr.hours) FILTER (WHERE sr.event_start >= now() - interval '90 days'), 0)::float8 AS recent_hours,
                (avg((o.rating->>'volunteers')::numeric) FILTER (WHERE NOT sr.is_no_show))::float8 AS average_rating,
                (count(*) FILTER (WHERE NOT sr.is_no_show))::int AS served_count,
                (count(*) FILTER (WHERE sr.is_no_show))::int AS no_show_count
         FROM service_records sr
         LEFT JOIN orders o ON o.id = sr.order_id
         WHERE sr.volunteer_id = v.id
       ) r
       WHERE s.topic = $2 AND v.organization_id = $1 AND v.is_active
         AND v.availability @> jsonb_build_array(jsonb_build_object('weekday', $8::int))`,
      [q.organizationId, q.topic, q.orderId, q.start, q.end, q.weekStart, q.weekEnd, q.weekday],
    );
    return rows.map((r) => ({
      id: r.id,
      displayName: r.display_name,
      isActive: r.is_active,
      home: { communityCode: r.home_community_code, subdistrictCode: r.home_subdistrict_code, districtCode: r.home_district_code },
      skills: [{ topic: q.topic, level: r.level }],
      audiences: r.audiences,
      availability: r.availability,
      unavailable: r.unavailable.map((u) => ({ start: new Date(u.start), end: new Date(u.end) })),
      maxHoursPerWeek: r.max_hours_per_week,
      bookedHoursThatWeek: r.booked_hours,
      hasOverlappingAssignment: r.has_overlap,
      recentHours: r.recent_hours,
      averageRating: r.average_rating,
      servedCount: r.served_count,
      noShowCount: r.no_show_count,
    }));
  }

  async venueFacts(q: VenueFactsQuery): Promise<VenueCandidateFacts[]> {
    const rows = await this.dataSource.query<VenueFactsRow[]>(
      `SELECT ve.id, ve.name, ve.kind, ve.capacity, ve.accessibility, ve.community_code, ve.subdistrict_code, ve.district_code,
              NOT EXISTS (
                SELECT 1 FROM bookings b
                WHERE b.venue_id = ve.id AND b.status = 'active' AND b.order_id <> $2 AND b.during && tstzrange($3::timestamptz, $4::timestamptz)
              ) AS is_free
       FROM venues ve
       WHERE ve.district_code = $1 AND ve.capacity >= $5 AND ve.accessibility @> $6::text[]
       ORDER BY (ve.community_code = $7) DESC, (ve.subdistrict_code = $8) DESC, ve.capacity, ve.id
       LIMIT ${MAX_VENUE_ROWS}`,
      [q.districtCode, q.orderId, q.start, q.end, q.expectedAttendance, q.accessibilityNeeds, q.place.communityCode, q.place.subdistrictCode],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      capacity: r.capacity,
      accessibility: r.accessibility,
      place: { communityCode: r.community_code, subdistrictCode: r.subdistrict_code, districtCode: r.district_code },
      isFree: r.is_free,
    }));
  }
}
