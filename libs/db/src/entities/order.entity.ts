import type { OrderStatus } from '@kepu/core';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export interface StoredWindow {
  start: string;
  end: string;
}

/** 订单 / 服务需求. Its status changes only through OrdersRepository.transition. */
@Entity('orders')
export class OrderEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text', unique: true })
  code: string;

  @Column({ type: 'text' })
  status: OrderStatus;

  @Column({ type: 'int' })
  version: number;

  @Column({ name: 'community_code', type: 'varchar', length: 12 })
  communityCode: string;

  @Column({ name: 'subdistrict_code', type: 'varchar', length: 9 })
  subdistrictCode: string;

  @Column({ name: 'district_code', type: 'varchar', length: 6 })
  districtCode: string;

  @Column({ name: 'requester_id', type: 'uuid' })
  requesterId: string;

  @Column({ type: 'text' })
  topic: string;

  @Column({ type: 'text' })
  audience: string;

  @Column({ type: 'text' })
  format: string;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text' })
  description: string;

  @Column({ name: 'expected_attendance', type: 'int' })
  expectedAttendance: number;

  @Column({ name: 'preferred_windows', type: 'jsonb' })
  preferredWindows: StoredWindow[];

  @Column({ name: 'last_window_end', type: 'timestamptz' })
  lastWindowEnd: Date;

  @Column({ name: 'accessibility_needs', type: 'text', array: true })
  accessibilityNeeds: string[];

  @Column({ name: 'contact_name', type: 'text' })
  contactName: string;

  @Column({ name: 'contact_phone', type: 'text' })
  contactPhone: string;

  @Column({ name: 'department_id', type: 'uuid', nullable: true })
  departmentId: string | null;

  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId: string | null;

  @Column({ name: 'offered_organization_id', type: 'uuid', nullable: true })
  offeredOrganizationId: string | null;

  @Column({ name: 'is_open_to_organizations', type: 'boolean' })
  isOpenToOrganizations: boolean;

  @Column({ name: 'scheduled_start', type: 'timestamptz', nullable: true })
  scheduledStart: Date | null;

  @Column({ name: 'scheduled_end', type: 'timestamptz', nullable: true })
  scheduledEnd: Date | null;

  @Column({ name: 'venue_id', type: 'uuid', nullable: true })
  venueId: string | null;

  @Column({ name: 'returned_count', type: 'int' })
  returnedCount: number;

  @Column({ name: 'merged_into_id', type: 'uuid', nullable: true })
  mergedIntoId: string | null;

  @Column({ name: 'possible_duplicate_ids', type: 'uuid', array: true })
  possibleDuplicateIds: string[];

  @Column({ type: 'jsonb', nullable: true })
  rating: Record<string, unknown> | null;

  /** Slots left for volunteers to claim (DESIGN.md §4). */
  @Column({ name: 'open_slots', type: 'int' })
  openSlots: number;

  @Column({ type: 'int', nullable: true })
  attendance: number | null;

  @Column({ type: 'text', nullable: true })
  summary: string | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
