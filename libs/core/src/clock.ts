/**
 * Where the write paths take "now" from. The services stamp created_at, updated_at,
 * event times and check-ins with it and test their guards against it ("the slot is in
 * the past", "check-in opens 2 h before the start"), so a seed can replay a past month
 * through them by handing in a clock set to past times. Timers of security and delivery
 * (token expiry, lockouts, idempotency expiry, notification timers) keep real time.
 */
export abstract class Clock {
  abstract now(): Date;
}

class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** The wall clock: what every app uses unless told otherwise. */
export const systemClock: Clock = new SystemClock();

/** A clock that says what it is told: for tests and for replaying the past. */
export class FixedClock extends Clock {
  constructor(private at: Date) {
    super();
  }

  now(): Date {
    return new Date(this.at.getTime());
  }

  set(at: Date): void {
    this.at = new Date(at.getTime());
  }
}
