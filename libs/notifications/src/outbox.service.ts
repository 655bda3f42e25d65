import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { type NewOutboxMessage, OutboxRepository } from './outbox.repository';

/**
 * How other libraries tell people: they append outbox messages in their own
 * transaction (DESIGN.md §5), and the worker relays and fans them out after the
 * commit. A message about no order lists its recipients in the payload:
 * `userIds` (rule recipients `listed_users`) or `phone` (`listed_phone`); its
 * string fields are the rule's text facts.
 */
@Injectable()
export class OutboxService {
  constructor(private readonly outbox: OutboxRepository) {}

  append(manager: EntityManager, messages: NewOutboxMessage[]): Promise<void> {
    return this.outbox.append(manager, messages);
  }
}
