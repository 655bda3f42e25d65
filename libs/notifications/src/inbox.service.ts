import { type Actor, NotFoundError } from '@kepu/core';
import { decodeCursor, type Page, toPage } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import type { DeliveriesQueryDto, DeliveryView, InboxQueryDto, NotificationPreferencesDto, NotificationView } from './inbox.dto';
import { NotificationsRepository } from './notifications.repository';

const DEFAULT_PAGE_SIZE = 20;

/** A user's own notifications and preferences; admins' view of external deliveries. */
@Injectable()
export class InboxService {
  constructor(private readonly repository: NotificationsRepository) {}

  async list(actor: Actor, query: InboxQueryDto): Promise<Page<NotificationView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.inbox(actor.userId, query.unread === true, limit, query.cursor ? decodeCursor(query.cursor) : undefined);
    return toPage(
      rows,
      limit,
      (r) => ({ at: r.created_at, id: r.id }),
      (r) => ({
        id: r.id,
        type: r.type,
        title: r.title,
        body: r.body,
        orderId: r.order_id,
        channel: r.channel,
        createdAt: r.created_at.toISOString(),
        readAt: r.read_at?.toISOString() ?? null,
      }),
    );
  }

  async markRead(actor: Actor, id: string): Promise<void> {
    // Someone else's notification is as absent as a missing one.
    if (!(await this.repository.markRead(actor.userId, id))) throw new NotFoundError(`No notification ${id} of yours.`);
  }

  async savePreferences(actor: Actor, dto: NotificationPreferencesDto): Promise<NotificationPreferencesDto> {
    await this.repository.savePreferences(actor.userId, dto);
    return this.repository.preferences(actor.userId);
  }

  preferences(actor: Actor): Promise<NotificationPreferencesDto> {
    return this.repository.preferences(actor.userId);
  }

  async deliveries(query: DeliveriesQueryDto): Promise<Page<DeliveryView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.deliveries(query.status, limit, query.cursor ? decodeCursor(query.cursor) : undefined);
    return toPage(
      rows,
      limit,
      (r) => ({ at: r.created_at, id: r.id }),
      (r) => ({
        id: r.id,
        userId: r.user_id,
        channel: r.channel,
        type: r.type,
        orderId: r.order_id,
        status: r.status,
        attempts: r.attempts,
        lastError: r.last_error,
        notBefore: r.not_before.toISOString(),
        createdAt: r.created_at.toISOString(),
        finishedAt: r.finished_at?.toISOString() ?? null,
      }),
    );
  }
}
