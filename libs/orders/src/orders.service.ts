import {
  type Actor,
  BusinessRuleError,
  Clock,
  decideTransition,
  findLikelyDuplicates,
  ForbiddenError,
  isBeyondHorizon,
  isTerminal,
  NotFoundError,
  occurrenceWindows,
  type OrderAction,
  OrderStateConflictError,
  type OrderStatus,
  preferredWindowProblems,
  type RelationContext,
  RESTARTS_STAGE,
  SYSTEM_ACTOR,
  type TimeWindow,
  ValidationError,
} from '@kepu/core';
import { decodeCursor, decodeSeqCursor, encodeSeqCursor, type HistoryPageQueryDto, MAX_PAGE_SIZE, type Page, toPage } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { IdempotencyService, type IdempotentOutcome } from './idempotency.service';
import type {
  CreateOrderDto,
  CreateOrderSeriesDto,
  DispatchOrderDto,
  ListOrdersQueryDto,
  MergeOrderDto,
  OfferOrderDto,
  OrderEventView,
  OrderSeriesView,
  OrderView,
  ReassignOrderDto,
  ReasonDto,
  TransitionDto,
} from './orders.dto';
import { toEventView, toOrderView } from './order.view';
import { OrderFulfilment } from './order-fulfilment';
import { type ExtraMessage, type NewOrder, type OrderPatch, type OrderRecord, OrdersRepository } from './orders.repository';
import { type Transaction, Transactions } from './transactions';

const DEFAULT_PAGE_SIZE = 20;

/**
 * A transition the actor may make on the order as it was read: the checks before the
 * transaction passed (404, 403, 409). Whether it still holds is decided by the
 * conditional update in `applyTransition`.
 */
export interface TransitionTicket {
  actor: Actor;
  order: OrderRecord;
  action: OrderAction;
  to: OrderStatus;
  eventType: string;
}

/** What the event of a transition says, and the outbox messages it causes besides its own. */
export interface TransitionFacts {
  payload?: Record<string, unknown>;
  messages?: readonly ExtraMessage[];
}

/** A volunteer taking an open slot; the assignment id is chosen beforehand so the event can name it. */
export interface SlotClaim {
  orderId: string;
  organizationId: string;
  assignmentId: string;
  volunteerId: string;
  at: Date;
}

export interface SlotTaken {
  kind: 'taken';
  /** The event's time as the claim found it: a reschedule in between is the caller's conflict. */
  start: Date;
  end: Date;
  version: number;
}

export interface SlotDeparture {
  orderId: string;
  type: string;
  facts: Record<string, unknown>;
  cap: number;
  at: Date;
}

/** What a transition of this library writes besides the status change itself. */
interface TransitionPlan extends TransitionFacts {
  patch?: OrderPatch;
  /** Runs in the transaction before the update; throw to abort (e.g. re-check a merge target under lock). */
  precheck?: (tx: Transaction) => Promise<void>;
}

@Injectable()
export class OrdersService {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly idempotency: IdempotencyService,
    private readonly transactions: Transactions,
    private readonly fulfilment: OrderFulfilment,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, dto: CreateOrderDto, idempotencyKey?: string): Promise<IdempotentOutcome<OrderView>> {
    if (idempotencyKey === undefined) return { replayed: false, result: await this.createOrder(actor, dto) };
    return this.idempotency.run(actor.userId, idempotencyKey, dto, () => this.createOrder(actor, dto, idempotencyKey));
  }

  async list(actor: Actor, query: ListOrdersQueryDto): Promise<Page<OrderView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const filters = {
      ...query,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      urgent: query.urgent === undefined ? undefined : query.urgent === 'true',
    };
    const rows = await this.orders.listVisible(actor, filters, limit, after);
    // Urgent orders first: the cursor says which part of the list it stopped in.
    return toPage(rows, limit, (o) => ({ at: o.createdAt, id: o.id, rank: o.urgent ? 1 : 0 }), (o) => toOrderView(o, actor));
  }

  async get(actor: Actor, id: string): Promise<OrderView> {
    return toOrderView(await this.findVisible(actor, id), actor);
  }

  /** The order's events oldest first, a page at a time (the default page is the largest). */
  async events(actor: Actor, id: string, query: HistoryPageQueryDto = {}): Promise<Page<OrderEventView>> {
    const order = await this.findVisible(actor, id);
    const limit = query.limit ?? MAX_PAGE_SIZE;
    const rows = await this.orders.events(order.id, limit + 1, query.cursor ? decodeSeqCursor(query.cursor) : 0);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(toEventView), nextCursor: rows.length > limit && last ? encodeSeqCursor(last.seq) : null };
  }

  dispatch(actor: Actor, id: string, dto: DispatchOrderDto): Promise<OrderView> {
    return this.transition(actor, id, 'dispatch', dto, async (order) => {
      const department = await this.orders.findDepartment(dto.departmentId);
      if (!department) throw new BusinessRuleError('UNKNOWN_DEPARTMENT', `No department has the id ${dto.departmentId}.`);
      if (department.districtCode !== null && department.districtCode !== order.districtCode)
        throw new BusinessRuleError('DEPARTMENT_NOT_SERVING_DISTRICT', 'The department neither serves the order\'s district nor is city-wide.');
      return { patch: { departmentId: department.id }, payload: { departmentId: department.id, note: dto.note ?? null } };
    });
  }

  /**
   * A coordinator moves a stuck order to another department serving the district (DESIGN.md §10):
   * offers and open calls are withdrawn, the claim stage starts again (timers and escalations),
   * and both departments are told. Races a claim like any transition: one conditional update wins.
   */
  async reassign(actor: Actor, id: string, dto: ReassignOrderDto): Promise<OrderView> {
    const ticket = await this.authorize(actor, id, 'reassign', dto);
    const order = ticket.order;
    const department = await this.orders.findDepartment(dto.departmentId);
    if (!department) throw new BusinessRuleError('UNKNOWN_DEPARTMENT', `No department has the id ${dto.departmentId}.`);
    if (department.districtCode !== null && department.districtCode !== order.districtCode)
      throw new BusinessRuleError('DEPARTMENT_NOT_SERVING_DISTRICT', 'The department neither serves the order\'s district nor is city-wide.');
    if (department.id === order.departmentId) throw new BusinessRuleError('SAME_DEPARTMENT', 'The order is already with that department.');
    const at = this.clock.now();
    const reason = dto.reason.trim();
    return this.transactions.run(async (tx) => {
      const updated = await this.applyTransition(tx, ticket, {
        patch: { departmentId: department.id, offeredOrganizationId: null, isOpenToOrganizations: false },
        at,
      });
      return this.recordTransition(tx, ticket, updated, {
        payload: {
          departmentId: department.id,
          fromDepartmentId: order.departmentId,
          withdrawnOfferOrganizationId: order.offeredOrganizationId,
          wasOpenToOrganizations: order.isOpenToOrganizations,
          reason,
          side: 'to',
        },
        // The department that had it learns it is off its desk (the recipients follow payload.departmentId).
        messages: order.departmentId === null ? [] : [{ type: 'order.reassigned', payload: { departmentId: order.departmentId, toDepartmentId: department.id, reason, side: 'from' } }],
      });
    });
  }

  reject(actor: Actor, id: string, dto: ReasonDto): Promise<OrderView> {
    return this.transition(actor, id, 'reject', dto, async () => ({ payload: { reason: dto.reason } }));
  }

  merge(actor: Actor, id: string, dto: MergeOrderDto): Promise<OrderView> {
    return this.transition(actor, id, 'merge', dto, async (order) => {
      const isValidTarget = (primary: { id: string; status: OrderRecord['status']; communityCode: string } | null) =>
        primary !== null && primary.id !== order.id && primary.communityCode === order.communityCode && !isTerminal(primary.status);
      const invalid = () => new BusinessRuleError('INVALID_MERGE_TARGET', 'The primary order must be another open order of the same community.');
      if (!isValidTarget(await this.orders.findVisible(actor, dto.primaryOrderId))) throw invalid();
      return {
        patch: { mergedIntoId: dto.primaryOrderId },
        payload: { primaryOrderId: dto.primaryOrderId },
        // Re-checked under a row lock: two orders merged into each other at once would otherwise both commit.
        precheck: async (tx) => {
          if (!isValidTarget(await this.orders.lockOrderForShare(tx, dto.primaryOrderId))) throw invalid();
        },
      };
    });
  }

  claim(actor: Actor, id: string, dto: TransitionDto): Promise<OrderView> {
    return this.transition(actor, id, 'claim', dto, async (order) => ({ payload: { departmentId: order.departmentId } }));
  }

  decline(actor: Actor, id: string, dto: ReasonDto): Promise<OrderView> {
    return this.transition(actor, id, 'decline', dto, async (order) => ({
      patch: { departmentId: null, returnedCount: order.returnedCount + 1 },
      payload: { departmentId: order.departmentId, reason: dto.reason },
    }));
  }

  offer(actor: Actor, id: string, dto: OfferOrderDto): Promise<OrderView> {
    return this.transition(actor, id, 'offer', dto, async (order) => {
      if (!(await this.orders.organizationExists(dto.organizationId)))
        throw new BusinessRuleError('UNKNOWN_ORGANIZATION', `No organisation has the id ${dto.organizationId}.`);
      if (!(await this.orders.doesOrganizationServeDistrict(dto.organizationId, order.districtCode)))
        throw new BusinessRuleError('ORGANIZATION_NOT_SERVING_DISTRICT', 'The organisation does not serve the order\'s district.');
      return { patch: { offeredOrganizationId: dto.organizationId }, payload: { organizationId: dto.organizationId } };
    });
  }

  open(actor: Actor, id: string, dto: TransitionDto): Promise<OrderView> {
    return this.transition(actor, id, 'open', dto, async () => ({ patch: { isOpenToOrganizations: true } }));
  }

  accept(actor: Actor, id: string, dto: TransitionDto): Promise<OrderView> {
    // Accepted, the open call is over: the other organisations no longer see the order.
    return this.transition(actor, id, 'accept', dto, async () => ({
      patch: { organizationId: actor.organizationId, isOpenToOrganizations: false },
      payload: { organizationId: actor.organizationId },
    }));
  }

  async release(actor: Actor, id: string, dto: ReasonDto): Promise<OrderView> {
    const ticket = await this.authorize(actor, id, 'release', dto);
    const at = this.clock.now();
    return this.transactions.run(async (tx) => {
      // The department decides again whom to offer it to.
      const updated = await this.applyTransition(tx, ticket, {
        patch: { organizationId: null, offeredOrganizationId: null, isOpenToOrganizations: false, openSlots: 0 },
        at,
      });
      const released = await this.fulfilment.releaseFor(tx, updated.id, at);
      return this.recordTransition(tx, ticket, updated, {
        payload: { organizationId: ticket.order.organizationId, reason: dto.reason, volunteerIds: released.volunteerIds },
      });
    });
  }

  async cancel(actor: Actor, id: string, dto: ReasonDto): Promise<OrderView> {
    const ticket = await this.authorize(actor, id, 'cancel', dto);
    const at = this.clock.now();
    return this.transactions.run(async (tx) => {
      const updated = await this.applyTransition(tx, ticket, { patch: { openSlots: 0 }, at });
      // Bookings, assignments and (through the timers) reminders end with the order.
      const released = await this.fulfilment.cancelFor(tx, updated.id, at);
      return this.recordTransition(tx, ticket, updated, { payload: { reason: dto.reason, volunteerIds: released.volunteerIds } });
    });
  }

  /**
   * The system expires an order whose last preferred window ended before it was
   * scheduled (DESIGN.md §3). False when there is nothing to do: the order moved
   * on, or its window has not ended yet.
   */
  expire(orderId: string, now = this.clock.now()): Promise<boolean> {
    return this.systemTransition(orderId, 'expire', (o) => o.lastWindowEnd <= now, (o) => ({ lastWindowEnd: o.lastWindowEnd.toISOString() }), now);
  }

  /** Closes a completed order nobody rated within `afterMs` of completion. */
  closeUnrated(orderId: string, afterMs: number, now = this.clock.now()): Promise<boolean> {
    return this.systemTransition(
      orderId,
      'close',
      (o) => o.completedAt !== null && o.completedAt.getTime() + afterMs <= now.getTime(),
      () => ({}),
      now,
    );
  }

  /** A transition made by the worker's timers: no scope, the `system` row of the table, re-checked when due. */
  private async systemTransition(
    orderId: string,
    action: 'expire' | 'close',
    isDue: (order: OrderRecord) => boolean,
    payload: (order: OrderRecord) => Record<string, unknown>,
    at: Date,
  ): Promise<boolean> {
    const order = await this.orders.findForSystem(orderId);
    if (!order || !isDue(order)) return false;
    const decision = decideTransition(order, action, SYSTEM_ACTOR);
    if (!decision.allowed) return false;
    return this.transactions.run(async (tx) => {
      const updated = await this.orders.applyTransition(tx, { orderId: order.id, fromStatus: order.status, fromVersion: order.version, toStatus: decision.to, patch: {}, at });
      if (!updated) return false;
      await this.orders.recordTransition(tx, updated, {
        eventType: decision.rule.eventType,
        fromStatus: order.status,
        actorId: null,
        actorRole: 'system',
        payload: { orderId: updated.id, fromStatus: order.status, toStatus: decision.to, ...payload(order) },
        messages: [],
      });
      return true;
    });
  }

  private async createOrder(actor: Actor, dto: CreateOrderDto, idempotencyKey?: string): Promise<OrderView> {
    const createdAt = this.clock.now();
    const windows = this.checkedWindows(actor, dto, createdAt);
    const order = await this.orders.insert(
      await this.newOrder(actor, dto, windows, createdAt, null),
      idempotencyKey === undefined ? undefined : { userId: actor.userId, key: idempotencyKey, render: (o) => toOrderView(o, actor) },
    );
    return toOrderView(order, actor);
  }

  /**
   * 常态化: one order per occurrence, each window shifted by a week or a month per occurrence,
   * all with one seriesId, written in one transaction (any refusal writes none). Each then
   * lives its own lifecycle.
   */
  async createSeries(actor: Actor, dto: CreateOrderSeriesDto): Promise<OrderSeriesView> {
    if (actor.role !== 'community_staff') throw new ForbiddenError('Community staff create series of orders.');
    const { recurrence, ...body } = dto;
    const createdAt = this.clock.now();
    const windows = this.checkedWindows(actor, body, createdAt);
    const occurrences = Array.from({ length: recurrence.count }, (_, n) => occurrenceWindows(windows, recurrence.every, n));
    const beyond = occurrences.findIndex((ws) => ws.some((w) => isBeyondHorizon(w, createdAt)));
    if (beyond >= 0)
      throw new BusinessRuleError(
        'SERIES_BEYOND_HORIZON',
        `Occurrence ${beyond + 1} of ${recurrence.count} would end more than 180 days ahead, beyond the booking horizon; ask for fewer occurrences.`,
      );
    const seriesId = randomUUID();
    const orders: NewOrder[] = [];
    for (const ws of occurrences) orders.push(await this.newOrder(actor, body, ws, createdAt, seriesId));
    const records = await this.orders.insertAll(orders);
    return { seriesId, orders: records.map((o) => toOrderView(o, actor)) };
  }

  /** Who may order, and the preferred windows as dates: 403 for the role, 400 for the windows, before any read. */
  private checkedWindows(actor: Actor, dto: CreateOrderDto, now: Date): TimeWindow[] {
    const isCoordinator = actor.role === 'district_coordinator' || actor.role === 'city_admin';
    if (dto.urgent === true) {
      // 应急科普 is for the community and the coordinators, not a resident's own request.
      if (actor.role !== 'community_staff' && !isCoordinator) throw new ForbiddenError('Urgent orders are created by community staff and coordinators.');
    } else if (actor.role !== 'resident' && actor.role !== 'community_staff') {
      throw new ForbiddenError(isCoordinator ? 'Coordinators create urgent orders only (urgent: true).' : 'Only residents and community staff create orders.');
    }
    const windows = dto.preferredWindows.map((w) => ({ start: new Date(w.start), end: new Date(w.end) }));
    const problems = preferredWindowProblems(windows, now);
    if (problems.length > 0)
      throw new ValidationError(
        problems.map((p) => `preferredWindows.${p.index}: ${p.message}`).join('; '),
        problems.map((p) => ({ field: `preferredWindows.${p.index}`, message: p.message })),
      );
    return windows;
  }

  /** The order to insert: the community in the actor's scope, the duplicate hints. */
  private async newOrder(actor: Actor, dto: CreateOrderDto, windows: TimeWindow[], createdAt: Date, seriesId: string | null): Promise<NewOrder> {
    const isCommunityRole = actor.role === 'resident' || actor.role === 'community_staff';
    if (isCommunityRole && dto.communityCode !== actor.communityCode) throw new ForbiddenError('Orders are created for your own community only.');
    const community = await this.orders.findCommunity(dto.communityCode);
    if (!community) throw new BusinessRuleError('UNKNOWN_COMMUNITY', `No community has the code ${dto.communityCode}.`);
    if (actor.role === 'district_coordinator' && community.districtCode !== actor.districtCode)
      throw new ForbiddenError('Coordinators create orders for communities of their own district only.');

    const preferredWindows = windows.map((w) => ({ start: w.start.toISOString(), end: w.end.toISOString() }));
    const candidates = await this.orders.openOrdersLike(community.code, dto.topic, dto.audience);
    const possibleDuplicateIds = findLikelyDuplicates(
      { topic: dto.topic, audience: dto.audience, preferredWindows: windows },
      candidates.map((c) => ({
        id: c.id,
        topic: dto.topic,
        audience: dto.audience,
        preferredWindows: c.preferredWindows.map((w) => ({ start: new Date(w.start), end: new Date(w.end) })),
      })),
    );
    return {
      communityCode: community.code,
      subdistrictCode: community.subdistrictCode,
      districtCode: community.districtCode,
      requesterId: actor.userId,
      actorRole: actor.role,
      topic: dto.topic,
      audience: dto.audience,
      format: dto.format,
      title: dto.title.trim(),
      description: dto.description,
      expectedAttendance: dto.expectedAttendance,
      preferredWindows,
      lastWindowEnd: new Date(Math.max(...windows.map((w) => w.end.getTime()))),
      accessibilityNeeds: dto.accessibilityNeeds ?? [],
      contactName: dto.contactName.trim(),
      contactPhone: dto.contactPhone,
      possibleDuplicateIds,
      urgent: dto.urgent === true,
      seriesId,
      createdAt,
    };
  }

  private async findVisible(actor: Actor, id: string): Promise<OrderRecord> {
    const order = await this.orders.findVisible(actor, id);
    if (!order) throw new NotFoundError(`No order ${id} is visible to you.`);
    return order;
  }

  /** The order as the actor sees it, or null outside their scope: for the fulfilment side's own checks. */
  findVisibleRecord(actor: Actor, id: string): Promise<OrderRecord | null> {
    return this.orders.findVisible(actor, id);
  }

  /** A community's place in the region tree (cached reference data), or null when unknown. */
  findCommunity(code: string): Promise<{ code: string; subdistrictCode: string; districtCode: string } | null> {
    return this.orders.findCommunity(code);
  }

  /**
   * Locks the order row for the rest of the caller's transaction. Writers of an event's
   * assignments take it first, as every transition does, so they queue behind each other
   * instead of deadlocking.
   */
  lockOrder(tx: Transaction, orderId: string): Promise<void> {
    return this.orders.lockOrder(tx, orderId);
  }

  /**
   * A volunteer's claim takes one open slot of the organisation's scheduled event, in the
   * caller's transaction: the conditional decrement is the capacity guard (with 3 slots and
   * 30 claimers exactly 3 updates find a slot left), and the order's `assignment.claimed`
   * event commits with it. `full` or `gone` when there is no slot to take.
   */
  async takeOpenSlot(tx: Transaction, actor: Actor, claim: SlotClaim): Promise<SlotTaken | { kind: 'full' } | { kind: 'gone' }> {
    const change = await this.orders.takeOpenSlot(tx, claim.orderId, claim.organizationId, claim.at);
    if (!change) return { kind: (await this.orders.statusOf(tx, claim.orderId)) === 'scheduled' ? 'full' : 'gone' };
    const payload = { orderId: claim.orderId, assignmentId: claim.assignmentId, volunteerId: claim.volunteerId, openSlots: change.openSlots };
    await this.orders.appendScheduledEvent(tx, claim.orderId, change.version, 'assignment.claimed', actor, payload, claim.at);
    return { kind: 'taken', start: change.start, end: change.end, version: change.version };
  }

  /**
   * A claimed slot reopens when its volunteer declines or withdraws (never above `cap`), with
   * the order's event of the departure; null when the order is no longer scheduled. Returns
   * the event's seq for the caller's outbox message.
   */
  async returnOpenSlot(tx: Transaction, actor: Actor, departure: SlotDeparture): Promise<{ eventSeq: number } | null> {
    const change = await this.orders.returnOpenSlot(tx, departure.orderId, departure.cap, departure.at);
    if (!change) return null;
    await this.orders.appendScheduledEvent(tx, departure.orderId, change.version, departure.type, actor, { ...departure.facts, openSlots: change.openSlots }, departure.at);
    return { eventSeq: change.version };
  }

  /**
   * The checks before a transition's transaction: 404 outside scope, 403 when the role
   * may not, 409 when the state or the expected version does not allow it. `context`
   * supplies relation facts other libraries know (e.g. an assigned volunteer).
   */
  async authorize(actor: Actor, id: string, action: OrderAction, dto: TransitionDto, context: RelationContext = {}): Promise<TransitionTicket> {
    const order = await this.orders.findVisible(actor, id);
    if (!order) {
      // An open call closes for everyone else the moment one organisation accepts it; the
      // others lost a race they could see, and the contract answers a lost race with 409.
      if (action === 'accept' && actor.role === 'org_admin' && actor.organizationId && (await this.orders.isOpenCallTakenByOther(id, actor.organizationId)))
        throw new OrderStateConflictError('Another organisation accepted this order first.');
      throw new NotFoundError(`No order ${id} is visible to you.`);
    }
    const ctx: RelationContext = { ...context };
    if (action === 'accept' && actor.role === 'org_admin' && actor.organizationId && order.isOpenToOrganizations)
      ctx.doesOrganizationServeDistrict = await this.orders.doesOrganizationServeDistrict(actor.organizationId, order.districtCode);
    const decision = decideTransition(order, action, actor, ctx);
    if (!decision.allowed) {
      // The organisation that already won the order lost only a race against itself: 409, not 403.
      const acceptedAlready = action === 'accept' && actor.organizationId !== null && actor.organizationId === order.organizationId;
      if (decision.reason === 'forbidden' && !acceptedAlready) throw new ForbiddenError(`You may not ${action} this order.`);
      throw new OrderStateConflictError(`The order is ${order.status}; ${action} is not possible now.`);
    }
    if (dto.expectedVersion !== undefined && dto.expectedVersion !== order.version)
      throw new OrderStateConflictError(`The order is at version ${order.version}, not ${dto.expectedVersion}.`);
    return { actor, order, action, to: decision.to, eventType: decision.rule.eventType };
  }

  /**
   * Moves the order in the caller's transaction: the update is conditional on the status
   * and version the ticket was issued for, so of two concurrent transitions one wins and
   * the other is 409. The order row stays locked until the transaction ends: whatever the
   * caller writes next (bookings, assignments, service records) sees a stable order.
   * Finish with `recordTransition` in the same transaction.
   */
  async applyTransition(tx: Transaction, ticket: TransitionTicket, change: { patch?: OrderPatch; at: Date }): Promise<OrderRecord> {
    const updated = await this.orders.applyTransition(tx, {
      orderId: ticket.order.id,
      fromStatus: ticket.order.status,
      fromVersion: ticket.order.version,
      toStatus: ticket.to,
      patch: change.patch ?? {},
      at: change.at,
      restartsStage: RESTARTS_STAGE.includes(ticket.eventType),
    });
    if (!updated) throw new OrderStateConflictError('The order changed under you; reload it and try again.');
    return updated;
  }

  /** The event (seq = the new version) and the outbox messages of a transition applied in this transaction. */
  async recordTransition(tx: Transaction, ticket: TransitionTicket, updated: OrderRecord, facts: TransitionFacts = {}): Promise<OrderView> {
    await this.orders.recordTransition(tx, updated, {
      eventType: ticket.eventType,
      fromStatus: ticket.order.status,
      actorId: ticket.actor.userId,
      actorRole: ticket.actor.role,
      payload: { orderId: updated.id, fromStatus: ticket.order.status, toStatus: ticket.to, ...facts.payload },
      messages: facts.messages ?? [],
    });
    return toOrderView(updated, ticket.actor);
  }

  /** A transition of this library with nothing to write in another one. */
  private async transition(actor: Actor, id: string, action: OrderAction, dto: TransitionDto, plan: (order: OrderRecord) => Promise<TransitionPlan>): Promise<OrderView> {
    const ticket = await this.authorize(actor, id, action, dto);
    const { patch, payload, messages, precheck } = await plan(ticket.order);
    const at = this.clock.now();
    return this.transactions.run(async (tx) => {
      if (precheck) await precheck(tx);
      const updated = await this.applyTransition(tx, ticket, { patch, at });
      return this.recordTransition(tx, ticket, updated, { payload, messages });
    });
  }
}
