import { type Actor, BusinessRuleError, ForbiddenError, NotFoundError } from '@kepu/core';
import { decodeCursor, type Page, toPage, type WriteLimitTicket } from '@kepu/http';
import { idempotencyRequestHash, IdempotencyService, Transactions } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import type { BroadcastAcceptedView, BroadcastsQueryDto, BroadcastStatus, BroadcastView, CreateBroadcastDto } from './broadcasts.dto';
import { type BroadcastProgressRow, BroadcastsRepository } from './broadcasts.repository';

const DEFAULT_PAGE_SIZE = 20;

/** A new broadcast, or the first answer again for a repeated Idempotency-Key. */
export type BroadcastOutcome = { replayed: false; result: BroadcastAcceptedView } | { replayed: true; body: unknown };

/** Progress as API.md counts it: per recipient user, over every channel they get the broadcast on. */
export function toBroadcastView(r: BroadcastProgressRow): BroadcastView {
  const pending = r.unsent + r.pending_users;
  const failed = r.failed_users;
  const isDone = r.open_batches === 0 && r.pending_users === 0;
  const status: BroadcastStatus = isDone ? 'done' : r.last_batch_at === null ? 'queued' : 'sending';
  const times = [r.created_at, r.last_batch_at, r.last_delivery_at].filter((t): t is Date => t !== null).map((t) => t.getTime());
  return {
    id: r.id,
    title: r.title,
    body: r.body,
    senderId: r.sender_id,
    districtCodes: r.district_codes,
    roles: r.roles,
    channels: r.channels,
    urgent: r.is_urgent,
    status,
    recipients: r.recipients,
    delivered: Math.max(0, r.recipients - pending - failed),
    failed,
    pending,
    createdAt: r.created_at.toISOString(),
    finishedAt: isDone ? new Date(Math.max(...times)).toISOString() : null,
  };
}

/**
 * Broadcasts (API.md "Coordinators steering", DESIGN.md §10): a city_admin (any
 * districts) or a district coordinator (its own) tells roles in districts. Accepting
 * one writes it and its recipient batches in one transaction (the sender's hourly
 * limit is the API's @LimitedWrite, counted in that transaction); the worker fans the batches out (BroadcastFanOutService).
 */
@Injectable()
export class BroadcastsService {
  constructor(
    private readonly repository: BroadcastsRepository,
    private readonly transactions: Transactions,
  ) {}

  /**
   * Accepts a broadcast, or replays the answer of an earlier one with the same
   * Idempotency-Key. `limit` (the sender's hourly cap, from @LimitedWrite) is counted
   * in the same transaction after repeats of the key are serialized, so racing
   * repeats replay the first answer and spend nothing.
   */
  async create(actor: Actor, dto: CreateBroadcastDto, idempotencyKey?: string, limit?: WriteLimitTicket): Promise<BroadcastOutcome> {
    if (idempotencyKey !== undefined) IdempotencyService.validateKey(idempotencyKey);
    const districtCodes = await this.districtsFor(actor, dto.districtCodes);
    const requestHash =
      idempotencyKey === undefined
        ? null
        : idempotencyRequestHash({ title: dto.title, body: dto.body, districtCodes: dto.districtCodes ?? null, roles: dto.roles, channels: dto.channels, urgent: dto.urgent ?? false });
    return this.transactions.run(async (tx) => {
      if (idempotencyKey !== undefined) {
        await this.repository.lockKey(tx, actor.userId, idempotencyKey);
        const existing = await this.repository.findByKey(actor.userId, idempotencyKey, tx);
        if (existing) {
          if (existing.requestHash !== requestHash) throw new BusinessRuleError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request body.');
          return { replayed: true, body: existing.response };
        }
      }
      await limit?.count(tx);
      const answer = (id: string, recipients: number): BroadcastAcceptedView => ({ id, recipients, status: 'queued' });
      const created = await this.repository.create(
        tx,
        {
          senderId: actor.userId,
          title: dto.title,
          body: dto.body,
          districtCodes,
          roles: dto.roles,
          channels: dto.channels,
          isUrgent: dto.urgent ?? false,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
        },
        answer,
      );
      return { replayed: false, result: answer(created.id, created.recipients) };
    });
  }

  /** The districts the broadcast goes to (null: the whole city); 403 for a coordinator reaching beyond its own. */
  private async districtsFor(actor: Actor, requested: string[] | undefined): Promise<string[] | null> {
    if (actor.role === 'district_coordinator') {
      const own = actor.districtCode;
      if (!own || (requested ?? [own]).some((code) => code !== own)) throw new ForbiddenError('A district coordinator broadcasts to its own district only.');
      return [own];
    }
    if (actor.role !== 'city_admin') throw new ForbiddenError('Only city administrators and district coordinators broadcast.');
    if (requested === undefined) return null;
    const unknown = await this.repository.unknownDistricts(requested);
    if (unknown.length > 0) throw new BusinessRuleError('UNKNOWN_DISTRICT', `Unknown district codes: ${unknown.join(', ')}.`);
    return requested;
  }

  async get(actor: Actor, id: string): Promise<BroadcastView> {
    const row = await this.repository.findProgress(id);
    if (!row || (actor.role !== 'city_admin' && row.sender_id !== actor.userId)) throw new NotFoundError(`No broadcast ${id} of yours.`);
    return toBroadcastView(row);
  }

  /** city_admin: every broadcast; anyone else: their own. Newest first. */
  async list(actor: Actor, query: BroadcastsQueryDto): Promise<Page<BroadcastView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.listProgress(actor.role === 'city_admin' ? null : actor.userId, limit, query.cursor ? decodeCursor(query.cursor) : undefined);
    return toPage(rows, limit, (r) => ({ at: r.created_at, id: r.id }), toBroadcastView);
  }
}
