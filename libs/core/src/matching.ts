import { windowsOverlap, type TimeWindow } from './time-window';

/**
 * Explainable matching (DESIGN.md §4): hard filters first, then a score that is
 * the sum of named terms, so a coordinator can see why a volunteer ranks where
 * they do. Pure: the repository gathers the facts, this decides.
 */

export interface WeeklyWindow {
  /** ISO weekday, 1 = Monday … 7 = Sunday, Asia/Shanghai. */
  weekday: number;
  /** "HH:MM", local time. */
  start: string;
  end: string;
}

export interface Place {
  communityCode: string;
  subdistrictCode: string;
  districtCode: string;
}

export interface VolunteerFacts {
  id: string;
  isActive: boolean;
  home: Place;
  skills: readonly { topic: string; level: number }[];
  audiences: readonly string[];
  availability: readonly WeeklyWindow[];
  /** Dated exceptions: times the volunteer is not available. */
  unavailable: readonly TimeWindow[];
  maxHoursPerWeek: number;
  /** Hours of the volunteer's active assignments in the slot's week (Monday–Sunday, Shanghai). */
  bookedHoursThatWeek: number;
  hasOverlappingAssignment: boolean;
  /** Hours served in the last 90 days. */
  recentHours: number;
  /** Average of the ratings of events served, 1–5, or null. */
  averageRating: number | null;
  servedCount: number;
  noShowCount: number;
}

export interface SlotFacts {
  start: Date;
  end: Date;
  topic: string;
  audience: string;
  place: Place;
}

export type Breakdown = Record<string, number>;

export interface Scored<T> {
  item: T;
  score: number;
  breakdown: Breakdown;
}

export type IneligibleReason = 'inactive' | 'not_skilled' | 'unavailable' | 'busy' | 'over_weekly_cap';

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

/** Weight of each term: the most a term can add. */
export const VOLUNTEER_WEIGHTS = { topicLevel: 30, audience: 15, proximity: 20, fairness: 15, rating: 10, reliability: 10 } as const;
export const VENUE_WEIGHTS = { proximity: 20, fit: 10 } as const;

function localParts(at: Date): { weekday: number; minutes: number } {
  const local = new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  const weekday = local.getUTCDay() === 0 ? 7 : local.getUTCDay();
  return { weekday, minutes: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

const parseMinutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Parsed "HH:MM" strings: a day has 1,441 of them, and candidates read every window of ~1,000 volunteers per request. */
const MINUTES = new Map<string, number>();
const MINUTES_CAP = 4096;

/** "HH:MM" as minutes after midnight. */
export const toMinutes = (hhmm: string): number => {
  let minutes = MINUTES.get(hhmm);
  if (minutes === undefined) {
    minutes = parseMinutes(hhmm);
    if (MINUTES.size >= MINUTES_CAP) MINUTES.clear();
    MINUTES.set(hhmm, minutes);
  }
  return minutes;
};

const DAY_MINUTES = 24 * 60;

/**
 * A slot in Beijing wall time: its weekday and its start and end in minutes after
 * that day's midnight (the end passes 1440 when the slot runs past midnight).
 * Worked out once per slot, not once per volunteer.
 */
export interface LocalSlot {
  weekday: number;
  startMinutes: number;
  endMinutes: number;
}

export function localSlot(start: Date, end: Date): LocalSlot {
  const from = localParts(start);
  return { weekday: from.weekday, startMinutes: from.minutes, endMinutes: from.minutes + Math.round((end.getTime() - start.getTime()) / 60000) };
}

/** The slot cut at each Beijing midnight: a piece per day it touches, in that day's minutes. */
function dayPieces(local: LocalSlot): LocalSlot[] {
  const pieces: LocalSlot[] = [];
  for (let day = 0; day * DAY_MINUTES < local.endMinutes; day++) {
    const offset = day * DAY_MINUTES;
    pieces.push({
      weekday: ((local.weekday - 1 + day) % 7) + 1,
      startMinutes: Math.max(local.startMinutes, offset) - offset,
      endMinutes: Math.min(local.endMinutes, offset + DAY_MINUTES) - offset,
    });
  }
  return pieces;
}

/** One day's part of a slot lies inside one weekly window of its weekday. */
function isInsideWindow(availability: VolunteerFacts['availability'], p: LocalSlot): boolean {
  return availability.some((w) => w.weekday === p.weekday && toMinutes(w.start) <= p.startMinutes && p.endMinutes <= toMinutes(w.end));
}

/**
 * Each day's part of the slot lies inside one weekly window of that weekday (a slot
 * past midnight needs a window to 24:00 and one from 00:00 the next day), and the slot
 * touches no dated exception.
 */
export function isAvailable(v: Pick<VolunteerFacts, 'availability' | 'unavailable'>, start: Date, end: Date, local: LocalSlot = localSlot(start, end)): boolean {
  const isInsideWindows = local.endMinutes <= DAY_MINUTES ? isInsideWindow(v.availability, local) : dayPieces(local).every((p) => isInsideWindow(v.availability, p));
  return isInsideWindows && !v.unavailable.some((u) => windowsOverlap(u, { start, end }));
}

export function ineligibility(v: VolunteerFacts, slot: SlotFacts, local: LocalSlot = localSlot(slot.start, slot.end)): IneligibleReason[] {
  const reasons: IneligibleReason[] = [];
  if (!v.isActive) reasons.push('inactive');
  if (!v.skills.some((s) => s.topic === slot.topic)) reasons.push('not_skilled');
  if (!isAvailable(v, slot.start, slot.end, local)) reasons.push('unavailable');
  if (v.hasOverlappingAssignment) reasons.push('busy');
  const slotHours = (slot.end.getTime() - slot.start.getTime()) / HOUR_MS;
  if (v.bookedHoursThatWeek + slotHours > v.maxHoursPerWeek) reasons.push('over_weekly_cap');
  return reasons;
}

/** same community > same subdistrict > same district > elsewhere */
export function proximity(a: Place, b: Place): number {
  if (a.communityCode === b.communityCode) return 1;
  if (a.subdistrictCode === b.subdistrictCode) return 0.7;
  if (a.districtCode === b.districtCode) return 0.4;
  return 0;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function scoreVolunteer(v: VolunteerFacts, slot: SlotFacts): { score: number; breakdown: Breakdown } {
  const level = v.skills.find((s) => s.topic === slot.topic)?.level ?? 0;
  const breakdown: Breakdown = {
    topicLevel: round((VOLUNTEER_WEIGHTS.topicLevel * Math.min(3, Math.max(0, level))) / 3),
    audience: v.audiences.includes(slot.audience) ? VOLUNTEER_WEIGHTS.audience : 0,
    proximity: round(VOLUNTEER_WEIGHTS.proximity * proximity(v.home, slot.place)),
    // Fewer recent hours rank higher: the work is shared, not heaped on the keenest.
    fairness: round(VOLUNTEER_WEIGHTS.fairness / (1 + Math.max(0, v.recentHours) / 20)),
    // No rating yet counts as the middle of the scale.
    rating: round(VOLUNTEER_WEIGHTS.rating * (v.averageRating === null ? 0.5 : (Math.min(5, Math.max(1, v.averageRating)) - 1) / 4)),
    // Laplace-smoothed share of attended events: one no-show weighs less for a long record.
    reliability: round((VOLUNTEER_WEIGHTS.reliability * (v.servedCount + 1)) / (v.servedCount + v.noShowCount + 1)),
  };
  return { score: round(Object.values(breakdown).reduce((a, b) => a + b, 0)), breakdown };
}

/** Eligible volunteers, best first (ties broken by id so the order is stable). */
export function rankVolunteers<T extends VolunteerFacts>(volunteers: readonly T[], slot: SlotFacts): Scored<T>[] {
  const local = localSlot(slot.start, slot.end);
  return volunteers
    .filter((v) => ineligibility(v, slot, local).length === 0)
    .map((v) => ({ item: v, ...scoreVolunteer(v, slot) }))
    .sort((a, b) => b.score - a.score || a.item.id.localeCompare(b.item.id));
}

export interface VenueFacts {
  id: string;
  capacity: number;
  accessibility: readonly string[];
  place: Place;
  isFree: boolean;
}

export interface VenueNeeds {
  expectedAttendance: number;
  accessibilityNeeds: readonly string[];
  place: Place;
}

export function isVenueSuitable(venue: VenueFacts, needs: VenueNeeds): boolean {
  return venue.isFree && venue.capacity >= needs.expectedAttendance && needs.accessibilityNeeds.every((n) => venue.accessibility.includes(n));
}

export function scoreVenue(venue: VenueFacts, needs: VenueNeeds): { score: number; breakdown: Breakdown } {
  const breakdown: Breakdown = {
    proximity: round(VENUE_WEIGHTS.proximity * proximity(venue.place, needs.place)),
    // A hall that fits the audience beats a stadium: the share of seats that will be used.
    fit: round(VENUE_WEIGHTS.fit * Math.min(1, needs.expectedAttendance / Math.max(1, venue.capacity))),
  };
  return { score: round(breakdown.proximity! + breakdown.fit!), breakdown };
}

export function rankVenues<T extends VenueFacts>(venues: readonly T[], needs: VenueNeeds): Scored<T>[] {
  return venues
    .filter((v) => isVenueSuitable(v, needs))
    .map((v) => ({ item: v, ...scoreVenue(v, needs) }))
    .sort((a, b) => b.score - a.score || a.item.id.localeCompare(b.item.id));
}

/** Monday 00:00 Asia/Shanghai of the week containing `at`, as an instant. */
export function weekStart(at: Date): Date {
  const local = new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  const weekday = local.getUTCDay() === 0 ? 7 : local.getUTCDay();
  local.setUTCHours(0, 0, 0, 0);
  return new Date(local.getTime() - (weekday - 1) * 24 * HOUR_MS - SHANGHAI_OFFSET_MS);
}
