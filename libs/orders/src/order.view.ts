import { type Actor, canSeeContactPhone, maskPhone } from '@kepu/core';
import type { OrderEventView, OrderView } from './orders.dto';
import type { OrderRecord, OrdersRepository } from './orders.repository';

export function toOrderView(order: OrderRecord, viewer: Actor): OrderView {
  return {
    id: order.id,
    code: order.code,
    status: order.status,
    version: order.version,
    communityCode: order.communityCode,
    subdistrictCode: order.subdistrictCode,
    districtCode: order.districtCode,
    requesterId: order.requesterId,
    topic: order.topic,
    audience: order.audience,
    format: order.format,
    title: order.title,
    description: order.description,
    expectedAttendance: order.expectedAttendance,
    preferredWindows: order.preferredWindows.map((w) => ({ start: w.start, end: w.end })),
    accessibilityNeeds: order.accessibilityNeeds,
    contactName: order.contactName,
    contactPhone: canSeeContactPhone(viewer, order) ? order.contactPhone : maskPhone(order.contactPhone),
    departmentId: order.departmentId,
    organizationId: order.organizationId,
    offeredOrganizationId: order.offeredOrganizationId,
    openToOrganizations: order.isOpenToOrganizations,
    scheduledStart: order.scheduledStart?.toISOString() ?? null,
    scheduledEnd: order.scheduledEnd?.toISOString() ?? null,
    venueId: order.venueId,
    returnedCount: order.returnedCount,
    mergedIntoId: order.mergedIntoId,
    possibleDuplicateIds: order.possibleDuplicateIds,
    rating: order.rating,
    openSlots: order.openSlots,
    attendance: order.attendance,
    summary: order.summary,
    urgent: order.urgent,
    seriesId: order.seriesId,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}

export function toEventView(row: Awaited<ReturnType<OrdersRepository['events']>>[number]): OrderEventView {
  return {
    seq: row.seq,
    type: row.type,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    actorId: row.actor_id,
    actorRole: row.actor_role,
    payload: row.payload,
    at: row.at.toISOString(),
  };
}
