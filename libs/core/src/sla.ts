import type { OrderStatus } from './order-lifecycle';

/** Stages with a deadline (DESIGN.md §3): the status an order waits in, and what ends the wait. */
export type SlaStage = 'dispatch' | 'claim' | 'accept' | 'schedule';

export const SLA_STAGE_OF_STATUS: Partial<Record<OrderStatus, SlaStage>> = {
  submitted: 'dispatch',
  dispatched: 'claim',
  claimed: 'accept',
  accepted: 'schedule',
};

export const SLA_STAGE_LABEL: Record<SlaStage, string> = {
  dispatch: '超过时限未派单',
  claim: '超过时限未领单',
  accept: '超过时限未接单',
  schedule: '超过时限未排期',
};

export interface SlaHours {
  dispatch: number;
  claim: number;
  accept: number;
  schedule: number;
}

export const slaDueAt = (enteredAt: Date, stage: SlaStage, hours: SlaHours): Date =>
  new Date(enteredAt.getTime() + hours[stage] * 3600 * 1000);

/** An urgent order's deadlines (应急科普): every stage's hours times `SLA_URGENT_FACTOR`. */
export const slaHoursFor = (hours: SlaHours, isUrgent: boolean, urgentFactor: number): SlaHours =>
  isUrgent
    ? { dispatch: hours.dispatch * urgentFactor, claim: hours.claim * urgentFactor, accept: hours.accept * urgentFactor, schedule: hours.schedule * urgentFactor }
    : hours;

/** Statuses an order may expire from: it was never scheduled. */
export const EXPIRABLE_STATUSES: readonly OrderStatus[] = ['submitted', 'dispatched', 'claimed', 'accepted'];
