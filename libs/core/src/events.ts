/**
 * Published events and sign-ups (DESIGN.md §10): the pure rules. Times are the
 * order's scheduled start and end; counters count attendees, not sign-ups.
 */
export type EventStatus = 'open' | 'full' | 'closed' | 'cancelled';
export type SignupStatus = 'confirmed' | 'waitlisted' | 'cancelled';

export const MAX_EVENT_SEATS = 2000;
export const MAX_SIGNUP_ATTENDEES = 4;
/** The door opens for ticket scans this long before the start (as for volunteers' check-in). */
export const ATTENDANCE_OPENS_BEFORE_MS = 2 * 3600 * 1000;
/** Order statuses in which a published event still takes sign-ups (before its start). */
const RUNNING_ORDER_STATUSES: readonly string[] = ['scheduled', 'in_progress'];

export interface EventFacts {
  orderStatus: string;
  start: Date;
  end: Date;
  seats: number;
  confirmed: number;
  signupDeadline: Date | null;
}

/** Why a sign-up is refused now, or null when the event takes sign-ups. */
export function signupClosedReason(e: EventFacts, now: Date): string | null {
  if (e.orderStatus === 'cancelled') return 'The event was cancelled.';
  if (!RUNNING_ORDER_STATUSES.includes(e.orderStatus)) return 'The event is over.';
  if (now.getTime() >= e.start.getTime()) return 'The event has started.';
  if (e.signupDeadline && now.getTime() > e.signupDeadline.getTime()) return 'The sign-up deadline has passed.';
  return null;
}

export function eventStatus(e: EventFacts, now: Date): EventStatus {
  if (e.orderStatus === 'cancelled') return 'cancelled';
  if (signupClosedReason(e, now)) return 'closed';
  return e.confirmed >= e.seats ? 'full' : 'open';
}

/** Tickets are scanned from 2 h before the start until the end, while the event goes ahead. */
export function attendanceClosedReason(e: Pick<EventFacts, 'orderStatus' | 'start' | 'end'>, now: Date): string | null {
  if (e.orderStatus === 'cancelled') return 'The event was cancelled.';
  if (now.getTime() < e.start.getTime() - ATTENDANCE_OPENS_BEFORE_MS) return 'Tickets are scanned from 2 h before the start.';
  if (now.getTime() > e.end.getTime()) return 'The event has ended.';
  return null;
}

/** A signup is confirmed at once when its attendees fit in the seats left; otherwise it waits in line. */
export const fitsInSeats = (seats: number, confirmed: number, attendees: number): boolean => confirmed + attendees <= seats;

/**
 * Sign-ups decided together (one batch under the event's lock), in their order as if one
 * by one: each is confirmed when it fits in what those before it left, else it waits.
 */
export function seatInOrder(seats: number, confirmed: number, attendees: readonly number[]): ('confirmed' | 'waitlisted')[] {
  let taken = confirmed;
  return attendees.map((n) => {
    if (!fitsInSeats(seats, taken, n)) return 'waitlisted';
    taken += n;
    return 'confirmed';
  });
}

/**
 * Seats freed by a cancellation go to the waiting line in order: each waiting signup, first
 * come first, is confirmed when it fits in what is left (a group of 4 does not block a pair
 * behind it). Returns the ids to confirm.
 */
export function promotionsFor(seatsLeft: number, line: readonly { id: string; attendees: number }[]): string[] {
  let left = seatsLeft;
  const promoted: string[] = [];
  for (const s of line) {
    if (left <= 0) break;
    if (s.attendees <= left) {
      promoted.push(s.id);
      left -= s.attendees;
    }
  }
  return promoted;
}

/** Ticket codes: 10 characters of an alphabet without look-alikes (0/O, 1/I/L), typed or scanned at the door. */
export const TICKET_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const TICKET_CODE_LENGTH = 10;
export const TICKET_CODE_PATTERN = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/;

/** The code from random bytes (one per character; the bias of a modulo over 256 is irrelevant for a ticket). */
export function ticketCodeFrom(bytes: Uint8Array): string {
  let code = '';
  for (let i = 0; i < TICKET_CODE_LENGTH; i++) code += TICKET_ALPHABET[(bytes[i] ?? 0) % TICKET_ALPHABET.length];
  return code;
}
