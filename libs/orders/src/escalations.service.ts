import { type Actor, Clock, ConflictError, ForbiddenError, NotFoundError } from '@kepu/core';
import { decodeCursor, type Page, toPage } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import type { EscalationView, ListEscalationsQueryDto, AcknowledgeEscalationDto } from './escalations.dto';
import { type Breach, type EscalationRecord, EscalationsRepository } from './escalations.repository';

const DEFAULT_PAGE_SIZE = 20;

export type { Breach };

export class EscalationResolvedError extends ConflictError {
  constructor() {
    super('ESCALATION_RESOLVED', 'The order has left the stage: the escalation resolved itself.');
  }
}

const toView = (e: EscalationRecord): EscalationView => ({
  id: e.id,
  orderId: e.orderId,
  order: e.order,
  districtCode: e.districtCode,
  stage: e.stage,
  dueAt: e.dueAt.toISOString(),
  breachedAt: e.breachedAt.toISOString(),
  status: e.status,
  acknowledgedBy: e.acknowledgedBy,
  acknowledgedAt: e.acknowledgedAt?.toISOString() ?? null,
  note: e.note,
  resolvedAt: e.resolvedAt?.toISOString() ?? null,
});

/**
 * Escalations (DESIGN.md §10): the SLA timers open one when a stage's deadline passes,
 * the order's next status change resolves it (OrdersRepository.applyTransition, same
 * transaction), and coordinators acknowledge it with a note. Scoped like coverage.
 */
@Injectable()
export class EscalationsService {
  constructor(
    private readonly escalations: EscalationsRepository,
    private readonly clock: Clock,
  ) {}

  /** For the worker's SLA timers: opens the escalation of a breach, once; false when the order moved on. */
  openForBreach(breach: Breach): Promise<boolean> {
    return this.escalations.open(breach);
  }

  async list(actor: Actor, query: ListEscalationsQueryDto): Promise<Page<EscalationView>> {
    assertCoordinator(actor);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const urgent = query.urgent === undefined ? undefined : query.urgent === 'true';
    const rows = await this.escalations.listVisible(actor, { status: query.status, districtCode: query.districtCode, urgent }, limit, after);
    return toPage(rows, limit, (e) => ({ at: e.breachedAt, id: e.id, rank: e.order.urgent ? 1 : 0 }), toView);
  }

  async acknowledge(actor: Actor, id: string, dto: AcknowledgeEscalationDto): Promise<EscalationView> {
    assertCoordinator(actor);
    const found = await this.escalations.findVisible(actor, id);
    if (!found) throw new NotFoundError(`No escalation ${id} is visible to you.`);
    if (found.status === 'resolved') throw new EscalationResolvedError();
    // Conditional on not resolved: the order may leave the stage while the coordinator writes the note.
    if (!(await this.escalations.acknowledge(id, actor.userId, dto.note?.trim() || null, this.clock.now()))) throw new EscalationResolvedError();
    const updated = await this.escalations.findVisible(actor, id);
    if (!updated) throw new NotFoundError(`No escalation ${id} is visible to you.`);
    return toView(updated);
  }
}

function assertCoordinator(actor: Actor): void {
  if (actor.role !== 'city_admin' && actor.role !== 'district_coordinator') throw new ForbiddenError('Escalations are for coordinators.');
}
