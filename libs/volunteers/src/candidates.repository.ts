import type { LocalSlot, Place, TimeWindow, VenueFacts, VolunteerFacts, WeeklyWindow } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { VersionedCache, type Versioned } from './versioned-cache';

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

/** How many (organisation, topic) pools one API process keeps, least recently used out first (a pool of ~1,150 volunteers holds ~0.8 MB). */
export const CANDIDATE_CACHE_POOLS = 32;

/** One volunteer's facts that change slowly, as cached; the week's assignments are read fresh. */
interface CachedVolunteer {
  id: string;
  displayName: string;
  home: Place;
  audiences: string[];
  availability: WeeklyWindow[];
  /** Bit n set when a window falls on ISO weekday n. */
  weekdays: number;
  unavailable: TimeWindow[];
  maxHoursPerWeek: number;
  averageRating: number | null;
  servedCount: number;
  noShowCount: number;
  /** Service records of the last 90 days as of the load, newest first: start (µs since 1970) and hours in hundredths. */
  serviceStarts: number[];
  serviceHundredths: number[];
}

/** An organisation's active volunteers skilled in one topic, with their levels. */
interface PoolFacts {
  pool: { volunteer: CachedVolunteer; level: number }[];
  /** `now() - 90 days` at the load, in µs: service records before it were left out. */
  serviceCutoff: number;
}

/** Hours served since `cutoff` (µs), the sum of hundredths in integers: the same number as PostgreSQL's numeric sum cast to float8. */
function recentHours(v: CachedVolunteer, cutoff: number): number {
  let hundredths = 0;
  for (let i = 0; i < v.serviceStarts.length && v.serviceStarts[i]! >= cutoff; i++) hundredths += v.serviceHundredths[i]!;
  return hundredths / 100;
}

/** One volunteer as the load statement returns it: a JSON array in this order. */
type CachedTuple = [
  id: string,
  displayName: string,
  communityCode: string,
  subdistrictCode: string,
  districtCode: string,
  audiences: string[],
  availability: WeeklyWindow[],
  unavailable: { start: string; end: string }[],
  maxHoursPerWeek: number,
  level: number,
  averageRating: number | null,
  servedCount: number,
  noShowCount: number,
  service: [startMicros: number, hundredths: number][],
];

type VenueTuple = [id: string, name: string, kind: string, capacity: number, accessibility: string[], communityCode: string, subdistrictCode: string, districtCode: string, isFree: boolean];

/**
 * The facts matching needs (libs/core matching.ts). The rules themselves stay in
 * libs/core. Volunteers: the organisation's slowly changing facts come from a
 * per-process cache checked against the organisation's version on every request
 * (migration 1764375000000-candidate-cache), their assignments fresh from one
 * range scan. Venues: one statement, narrowed to those large and accessible
 * enough, which core checks again.
 */
@Injectable()
export class CandidatesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private readonly pools = new VersionedCache<PoolFacts>(CANDIDATE_CACHE_POOLS);

  async volunteerFacts(q: VolunteerFactsQuery): Promise<VolunteerCandidateFacts[]> {
    // One statement per request: the organisation's version (a primary-key read), the
    // service window's start, and the organisation's active assignments touching the slot
    // or its week (one range scan of the organisation's GiST index, whichever volunteer):
    // hours inside the week and any overlap, per volunteer. Everything else comes from the
    // process's cache of the organisation's facts, reloaded only when the version moved.
    const [now] = await this.dataSource.query<{ version: string; cutoff: string; busy: [string, number, boolean][] }[]>(
      `SELECT coalesce((SELECT version FROM organization_volunteer_versions WHERE organization_id = $1), 0)::text AS version,
              (extract(epoch FROM now() - interval '90 days') * 1000000)::int8::text AS cutoff,
              (SELECT coalesce(json_agg(json_build_array(b.volunteer_id, b.booked_hours, b.has_overlap)), '[]')
               FROM (
                 SELECT a.volunteer_id,
                        coalesce(sum(extract(epoch FROM least(upper(a.during), $5::timestamptz) - greatest(lower(a.during), $4::timestamptz)))
                          FILTER (WHERE a.during && tstzrange($4::timestamptz, $5::timestamptz)), 0)::float8 / 3600 AS booked_hours,
                        coalesce(bool_or(a.during && tstzrange($2::timestamptz, $3::timestamptz)), false) AS has_overlap
                 FROM assignments a
                 WHERE a.organization_id = $1 AND a.status IN ('invited','confirmed') AND a.order_id <> $6
                   AND a.during && tstzrange(least($2::timestamptz, $4::timestamptz), greatest($3::timestamptz, $5::timestamptz))
                 GROUP BY a.volunteer_id
               ) b) AS busy`,
      [q.organizationId, q.start, q.end, q.weekStart, q.weekEnd, q.orderId],
    );
    if (!now) throw new Error('the version statement returned no row');
    const cutoff = Number(now.cutoff);
    const key = `${q.organizationId}:${q.topic}`;
    const load = () => this.loadPool(q.organizationId, q.topic);
    let cached = await this.pools.get(key, BigInt(now.version), load);
    // Service records older than the load's 90 days were left out: a clock that went back reloads.
    if (cached.value.serviceCutoff > cutoff) cached = await this.pools.get(key, cached.version + 1n, load);
    const busy = new Map(now.busy.map(([id, bookedHours, hasOverlap]) => [id, { bookedHours, hasOverlap }]));
    // Only volunteers libs/core could keep: a window on the slot's weekday and no overlapping
    // assignment (core decides again, on every fact); at the bench's slot about half the pool.
    const weekday = 1 << q.local.weekday;
    const facts: VolunteerCandidateFacts[] = [];
    for (const { volunteer: v, level } of cached.value.pool) {
      const booked = busy.get(v.id);
      if ((v.weekdays & weekday) === 0 || booked?.hasOverlap === true) continue;
      facts.push({
        id: v.id,
        displayName: v.displayName,
        isActive: true,
        home: v.home,
        skills: [{ topic: q.topic, level }],
        audiences: v.audiences,
        availability: v.availability,
        unavailable: v.unavailable,
        maxHoursPerWeek: v.maxHoursPerWeek,
        bookedHoursThatWeek: booked?.bookedHours ?? 0,
        hasOverlappingAssignment: booked?.hasOverlap ?? false,
        recentHours: recentHours(v, cutoff),
        averageRating: v.averageRating,
        servedCount: v.servedCount,
        noShowCount: v.noShowCount,
      });
    }
    return facts;
  }

  /**
   * The organisation's active volunteers skilled in the topic with everything ranking
   * reads but their assignments, and the version they are current at: the version first,
   * then the facts, in one REPEATABLE READ snapshot, so a writer that commits meanwhile
   * leaves a newer version behind and the next request reloads. The pool comes from two
   * index-only scans; the record is a primary-key read of volunteer_stats; the service
   * records of the last 90 days an index-only range scan per volunteer.
   */
  private loadPool(organizationId: string, topic: string): Promise<Versioned<PoolFacts>> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager: EntityManager) => {
      const [head] = await manager.query<{ version: string; cutoff: string }[]>(
        `SELECT coalesce((SELECT version FROM organization_volunteer_versions WHERE organization_id = $1), 0)::text AS version,
                (extract(epoch FROM now() - interval '90 days') * 1000000)::int8::text AS cutoff`,
        [organizationId],
      );
      if (!head) throw new Error('the version statement returned no row');
      const [row] = await manager.query<{ facts: CachedTuple[] }[]>(
        `WITH pool AS MATERIALIZED (
           SELECT s.volunteer_id AS id, s.level
           FROM volunteers m JOIN volunteer_skills s ON s.volunteer_id = m.id AND s.topic = $2
           WHERE m.organization_id = $1 AND m.is_active
         )
         SELECT coalesce(json_agg(json_build_array(
                  v.id, v.display_name, v.home_community_code, v.home_subdistrict_code, v.home_district_code,
                  v.audiences, v.availability, v.unavailable, v.max_hours_per_week, p.level,
                  CASE WHEN st.rated_count > 0 THEN (st.rating_sum / st.rated_count)::float8 END,
                  coalesce(st.served_count, 0), coalesce(st.no_show_count, 0), r.service)), '[]') AS facts
         FROM pool p
         JOIN volunteers v ON v.id = p.id
         LEFT JOIN volunteer_stats st ON st.volunteer_id = v.id
         CROSS JOIN LATERAL (
           SELECT coalesce(json_agg(json_build_array((extract(epoch FROM sr.event_start) * 1000000)::int8, (sr.hours * 100)::int) ORDER BY sr.event_start DESC), '[]') AS service
           FROM service_records sr
           WHERE sr.volunteer_id = v.id AND sr.event_start >= now() - interval '90 days' AND sr.hours > 0
         ) r
`,
        [organizationId, topic],
      );
      const pool: PoolFacts['pool'] = [];
      for (const [id, displayName, communityCode, subdistrictCode, districtCode, audiences, availability, unavailable, maxHoursPerWeek, level, averageRating, servedCount, noShowCount, service] of row?.facts ?? []) {
        const volunteer: CachedVolunteer = {
          id,
          displayName,
          home: { communityCode, subdistrictCode, districtCode },
          audiences,
          availability,
          weekdays: availability.reduce((bits, w) => bits | (1 << w.weekday), 0),
          unavailable: unavailable.map((u) => ({ start: new Date(u.start), end: new Date(u.end) })),
          maxHoursPerWeek,
          averageRating,
          servedCount,
          noShowCount,
          serviceStarts: service.map(([at]) => at),
          serviceHundredths: service.map(([, hundredths]) => hundredths),
        };
        pool.push({ volunteer, level });
      }
      return { version: BigInt(head.version), value: { pool, serviceCutoff: Number(head.cutoff) } };
    });
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
