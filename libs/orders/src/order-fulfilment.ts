import type { Transaction } from './transactions';

/** What the fulfilment side reports of the holdings it ended: the volunteers whose assignments ended. */
export interface ReleasedHoldings {
  volunteerIds: string[];
}

/**
 * What an order's own transitions need from the library that owns bookings and
 * assignments (libs/volunteers implements it). Each method runs in the transition's
 * transaction, after the order's conditional update won, so the order row is locked
 * and the change commits with the order, its event and its outbox messages or not at all.
 */
export abstract class OrderFulfilment {
  /** The organisation gave the order back: its booking and active assignments end. */
  abstract releaseFor(tx: Transaction, orderId: string, at: Date): Promise<ReleasedHoldings>;

  /** The order was cancelled: its booking and active assignments end with it. */
  abstract cancelFor(tx: Transaction, orderId: string, at: Date): Promise<ReleasedHoldings>;
}
