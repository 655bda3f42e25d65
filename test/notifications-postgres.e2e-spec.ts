import { describeNotifications } from './support/notifications-suite';
import { describeStageTimers } from './support/stage-timers-suite';

// BullMQ's own PostgreSQL backend (QUEUE_BACKEND=postgres): the same producers,
// processors and assertions as on Redis (notifications.e2e-spec.ts, notifications-timers.e2e-spec.ts).
describeNotifications('postgres');
describeStageTimers('postgres');
