import { DepartmentEntity } from './department.entity';
import { IdempotencyRecordEntity } from './idempotency-record.entity';
import { OrderEventEntity } from './order-event.entity';
import { OrderEntity } from './order.entity';
import { OrganizationDistrictEntity, OrganizationEntity } from './organization.entity';
import { OutboxMessageEntity } from './outbox-message.entity';
import { CommunityEntity, DistrictEntity, SubdistrictEntity } from './region.entity';
import { UserEntity } from './user.entity';

export * from './department.entity';
export * from './idempotency-record.entity';
export * from './order-event.entity';
export * from './order.entity';
export * from './organization.entity';
export * from './outbox-message.entity';
export * from './region.entity';
export * from './user.entity';

export const ENTITIES = [
  DistrictEntity,
  SubdistrictEntity,
  CommunityEntity,
  UserEntity,
  DepartmentEntity,
  OrganizationEntity,
  OrganizationDistrictEntity,
  OrderEntity,
  OrderEventEntity,
  OutboxMessageEntity,
  IdempotencyRecordEntity,
];
