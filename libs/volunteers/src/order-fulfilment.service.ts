import { OrderFulfilment, type ReleasedHoldings, type Transaction } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import { SchedulingRepository } from './scheduling.repository';

/** libs/volunteers' side of an order's own transitions: the bookings and assignments it owns end with the order. */
@Injectable()
export class OrderFulfilmentService extends OrderFulfilment {
  constructor(private readonly scheduling: SchedulingRepository) {
    super();
  }

  async releaseFor(tx: Transaction, orderId: string, at: Date): Promise<ReleasedHoldings> {
    return { volunteerIds: await this.scheduling.releaseHoldings(tx, orderId, at) };
  }

  async cancelFor(tx: Transaction, orderId: string, at: Date): Promise<ReleasedHoldings> {
    return { volunteerIds: await this.scheduling.releaseHoldings(tx, orderId, at) };
  }
}
