import { describeNotifications } from './support/notifications-suite';

// The same suite runs on BullMQ's PostgreSQL backend in notifications-postgres.e2e-spec.ts.
describeNotifications('redis');
