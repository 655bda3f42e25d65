import { describeStageTimers } from './support/stage-timers-suite';

// SLA deadlines and expiry with tiny durations on Redis; the same on BullMQ's
// PostgreSQL backend runs in notifications-postgres.e2e-spec.ts.
describeStageTimers('redis');
