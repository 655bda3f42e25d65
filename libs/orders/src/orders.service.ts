import {
  type Actor,
  BusinessRuleError,
  decideTransition,
  findLikelyDuplicates,
  ForbiddenError,
  isTerminal,
  NotFoundError,
  type OrderAction,
  OrderStateConflictError,
  preferredWindowProblems,
  type RelationContext,
  SYSTEM_ACTOR,
  ValidationError,
} from '@kepu/core';
import { decodeCursor, type Page, toPage } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { IdempotencyService, type IdempotentOutcome } from './idempotency.service';
import type {
  CreateOrderDto,
  DispatchOrderDto,
  ListOrdersQueryDto,
  MergeOrderDto,
  OfferOrderDto,
  OrderEventView,
  OrderView,
  ReasonDto,
  TransitionDto,
} from './orders.dto';
import { toEventView, toOrderView } from './order.view';
import { type ExtraMessage, type OrderPatch, type OrderRecord, OrdersRepository, type OrdersTransaction, type TransitionEffects } from './orders.repository';

const DEFAULT_PAGE_SIZE = 20;

/** What a transition writes besides the status change itself. */
export interface TransitionPlan {
  patch?: OrderPatch;
  payload?: Record<string, unknown>;
  precheck?: (tx: OrdersTransaction) => Promise<void>;
  /** Writes of other libraries in the same transaction, after the update won. */
  effects?: TransitionEffects;
  messages?: ExtraMessage[];
}

@Injectable()
export class OrdersService {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly idempotency: IdempotencyService,
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
    };
    const rows = await this.orders.listVisible(actor, filters, limit, after);
    return toPage(rows, limit, (o) => ({ at: o.createdAt, id: o.id }), (o) => toOrderView(o, actor));
  }

  async get(actor: Actor, id: string): Promise<OrderView> {
    return toOrderView(await this.findVisible(actor, id), actor);
  }

  async events(actor: Actor, id: string): Promise<OrderEventView[]> {
    const order = await this.findVisible(actor, id);
    return (await this.orders.events(order.id)).map(toEventView);
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
          if (!isValidTarget(await tx.lockOrderForShare(dto.primaryOrderId))) throw invalid();
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
    return this.transition(actor, id, 'accept', dto, async () => ({
      patch: { organizationId: actor.organizationId },
      payload: { organizationId: actor.organizationId },
    }));
  }

  release(actor: Actor, id: string, dto: ReasonDto): Promise<OrderView> {
    // The department decides again whom to offer it to.
    return this.transition(actor, id, 'release', dto, async (order) => ({
      patch: { organizationId: null, offeredOrganizationId: null, isOpenToOrganizations: false, openSlots: 0 },
      payload: { organizationId: order.organizationId, reason: dto.reason },
      effects: OrdersRepository.releaseHoldings,
    }));
  }

  cancel(actor: Actor, id: string, dto: ReasonDto): Promise<OrderView> {
    // Bookings, assignments and (through the timers) reminders end with the order.
    return this.transition(actor, id, 'cancel', dto, async () => ({
      patch: { openSlots: 0 },
      payload: { reason: dto.reason },
      effects: OrdersRepository.releaseHoldings,
    }));
  }

  /**
   * The system expires an order whose last preferred window ended before it was
   * scheduled (DESIGN.md §3). False when there is nothing to do: the order moved
   * on, or its window has not ended yet.
   */
  expire(orderId: string, now = new Date()): Promise<boolean> {
    return this.systemTransition(orderId, 'expire', (o) => o.lastWindowEnd <= now, (o) => ({ lastWindowEnd: o.lastWindowEnd.toISOString() }));
  }

  /** Closes a completed order nobody rated within `afterMs` of completion. */
  closeUnrated(orderId: string, afterMs: number, now = new Date()): Promise<boolean> {
    return this.systemTransition(
      orderId,
      'close',
      (o) => o.completedAt !== null && o.completedAt.getTime() + afterMs <= now.getTime(),
      () => ({}),
    );
  }

  /** A transition made by the worker's timers: no scope, the `system` row of the table, re-checked when due. */
  private async systemTransition(
    orderId: string,
    action: 'expire' | 'close',
    isDue: (order: OrderRecord) => boolean,
    payload: (order: OrderRecord) => Record<string, unknown>,
  ): Promise<boolean> {
    const order = await this.orders.findForSystem(orderId);
    if (!order || !isDue(order)) return false;
    const decision = decideTransition(order, action, SYSTEM_ACTOR);
    if (!decision.allowed) return false;
    const updated = await this.orders.transition({
      orderId: order.id,
      fromStatus: order.status,
      fromVersion: order.version,
      toStatus: decision.to,
      patch: {},
      eventType: decision.rule.eventType,
      actorId: null,
      actorRole: 'system',
      payload: payload(order),
    });
    return updated !== null;
  }

  private async createOrder(actor: Actor, dto: CreateOrderDto, idempotencyKey?: string): Promise<OrderView> {
    if (actor.role !== 'resident' && actor.role !== 'community_staff')
      throw new ForbiddenError('Only residents and community staff create orders.');
    const windows = dto.preferredWindows.map((w) => ({ start: new Date(w.start), end: new Date(w.end) }));
    const problems = preferredWindowProblems(windows, new Date());
    if (problems.length > 0)
      throw new ValidationError(
        problems.map((p) => `preferredWindows.${p.index}: ${p.message}`).join('; '),
        problems.map((p) => ({ field: `preferredWindows.${p.index}`, message: p.message })),
      );
    if (dto.communityCode !== actor.communityCode) throw new ForbiddenError('Orders are created for your own community only.');
    const community = await this.orders.findCommunity(dto.communityCode);
    if (!community) throw new BusinessRuleError('UNKNOWN_COMMUNITY', `No community has the code ${dto.communityCode}.`);

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
    const order = await this.orders.insert(
      {
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
      },
      idempotencyKey === undefined ? undefined : { userId: actor.userId, key: idempotencyKey, render: (o) => toOrderView(o, actor) },
    );
    return toOrderView(order, actor);
  }

  private async findVisible(actor: Actor, id: string): Promise<OrderRecord> {
    const order = await this.orders.findVisible(actor, id);
    if (!order) throw new NotFoundError(`No order ${id} is visible to you.`);
    return order;
  }

  /**
   * The one way to move an order, for this library's use cases and the fulfilment ones:
   * 404 outside scope, 403 when the role may not, 409 when the state or version does not
   * allow it, then one transaction (conditional update, event, outbox, `effects`).
   * `context` supplies relation facts other libraries know (e.g. an assigned volunteer).
   */
  async transition(
    actor: Actor,
    id: string,
    action: OrderAction,
    dto: TransitionDto,
    plan: (order: OrderRecord) => Promise<TransitionPlan>,
    context?: (order: OrderRecord) => Promise<RelationContext>,
  ): Promise<OrderView> {
    const order = await this.findVisible(actor, id);
    const ctx: RelationContext = context ? await context(order) : {};
    if (action === 'accept' && actor.role === 'org_admin' && actor.organizationId && order.isOpenToOrganizations)
      ctx.doesOrganizationServeDistrict = await this.orders.doesOrganizationServeDistrict(actor.organizationId, order.districtCode);
    const decision = decideTransition(order, action, actor, ctx);
    if (!decision.allowed) {
      if (decision.reason === 'forbidden') throw new ForbiddenError(`You may not ${action} this order.`);
      throw new OrderStateConflictError(`The order is ${order.status}; ${action} is not possible now.`);
    }
    if (dto.expectedVersion !== undefined && dto.expectedVersion !== order.version)
      throw new OrderStateConflictError(`The order is at version ${order.version}, not ${dto.expectedVersion}.`);
    const { patch = {}, payload = {}, precheck, effects, messages } = await plan(order);
    const updated = await this.orders.transition({
      orderId: order.id,
      fromStatus: order.status,
      fromVersion: order.version,
      toStatus: decision.to,
      patch,
      eventType: decision.rule.eventType,
      actorId: actor.userId,
      actorRole: actor.role,
      payload,
      precheck,
      effects,
      messages,
    });
    if (!updated) throw new OrderStateConflictError('The order changed under you; reload it and try again.');
    return toOrderView(updated, actor);
  }
}
