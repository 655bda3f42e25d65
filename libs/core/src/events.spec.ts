import { attendanceClosedReason, eventStatus, fitsInSeats, promotionsFor, seatInOrder, signupClosedReason, TICKET_CODE_PATTERN, ticketCodeFrom } from './events';

const HOUR = 3600_000;
const now = new Date('2027-03-14T01:00:00Z');
const event = (over: Partial<Parameters<typeof eventStatus>[0]> = {}) => ({
  orderStatus: 'scheduled',
  start: new Date(now.getTime() + 24 * HOUR),
  end: new Date(now.getTime() + 26 * HOUR),
  seats: 10,
  confirmed: 0,
  signupDeadline: null,
  ...over,
});

describe('events: pure rules', () => {
  it('status: open, full, closed (deadline, start, over), cancelled', () => {
    expect(eventStatus(event(), now)).toBe('open');
    expect(eventStatus(event({ confirmed: 10 }), now)).toBe('full');
    expect(eventStatus(event({ signupDeadline: new Date(now.getTime() - 1) }), now)).toBe('closed');
    expect(eventStatus(event({ signupDeadline: now }), now)).toBe('open');
    expect(eventStatus(event({ start: now }), now)).toBe('closed');
    expect(eventStatus(event({ orderStatus: 'completed' }), now)).toBe('closed');
    expect(eventStatus(event({ orderStatus: 'in_progress' }), now)).toBe('open');
    expect(eventStatus(event({ orderStatus: 'cancelled', confirmed: 10 }), now)).toBe('cancelled');
    expect(signupClosedReason(event(), now)).toBeNull();
  });

  it('the door is open from 2 h before the start until the end', () => {
    const start = new Date(now.getTime() + 2 * HOUR);
    expect(attendanceClosedReason({ orderStatus: 'scheduled', start, end: new Date(start.getTime() + HOUR) }, now)).toBeNull();
    expect(attendanceClosedReason({ orderStatus: 'scheduled', start: new Date(start.getTime() + 1), end: new Date(start.getTime() + HOUR) }, now)).not.toBeNull();
    expect(attendanceClosedReason({ orderStatus: 'in_progress', start: new Date(now.getTime() - HOUR), end: now }, now)).toBeNull();
    expect(attendanceClosedReason({ orderStatus: 'in_progress', start: new Date(now.getTime() - HOUR), end: new Date(now.getTime() - 1) }, now)).not.toBeNull();
    expect(attendanceClosedReason({ orderStatus: 'cancelled', start, end: new Date(start.getTime() + HOUR) }, now)).not.toBeNull();
  });

  it('seats: a sign-up fits when its people fit in what is left', () => {
    expect(fitsInSeats(10, 6, 4)).toBe(true);
    expect(fitsInSeats(10, 7, 4)).toBe(false);
  });

  it('a batch of sign-ups is seated in its order as if one by one: a group that does not fit waits, a smaller one behind it may still fit', () => {
    expect(seatInOrder(5, 0, [2, 2, 2, 1, 1])).toEqual(['confirmed', 'confirmed', 'waitlisted', 'confirmed', 'waitlisted']);
    expect(seatInOrder(5, 5, [1, 1])).toEqual(['waitlisted', 'waitlisted']);
    expect(seatInOrder(10, 6, [4, 1])).toEqual(['confirmed', 'waitlisted']);
    expect(seatInOrder(10, 0, [])).toEqual([]);
  });

  it('promotions: first come first, each that fits; a big group does not block a smaller one behind it', () => {
    const line = [
      { id: 'a', attendees: 3 },
      { id: 'b', attendees: 1 },
      { id: 'c', attendees: 2 },
      { id: 'd', attendees: 1 },
    ];
    expect(promotionsFor(0, line)).toEqual([]);
    expect(promotionsFor(2, line)).toEqual(['b', 'd']);
    expect(promotionsFor(3, line)).toEqual(['a']);
    expect(promotionsFor(4, line)).toEqual(['a', 'b']);
    expect(promotionsFor(7, line)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('ticket codes: 10 characters without look-alikes', () => {
    const code = ticketCodeFrom(Uint8Array.from([0, 1, 2, 30, 31, 255, 128, 64, 7, 9]));
    expect(code).toMatch(TICKET_CODE_PATTERN);
    expect(code).not.toMatch(/[01ILO]/);
  });
});
