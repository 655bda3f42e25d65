import { OrdersModule } from '@kepu/orders';
import { Module } from '@nestjs/common';
import { AssignmentsRepository } from './assignments.repository';
import { AssignmentsService } from './assignments.service';
import { CandidatesRepository } from './candidates.repository';
import { CandidatesService } from './candidates.service';
import { FulfilmentRepository } from './fulfilment.repository';
import { FulfilmentService } from './fulfilment.service';
import { SchedulingRepository } from './scheduling.repository';
import { SchedulingService } from './scheduling.service';
import { VenuesRepository } from './venues.repository';
import { VenuesService } from './venues.service';
import { VolunteersRepository } from './volunteers.repository';
import { VolunteersService } from './volunteers.service';

/**
 * Fulfilment (志愿组织接单 → 派员 → 履约 → 评单): volunteers, venues, candidates,
 * scheduling, assignments and open slots, check-in/out, service records, rating.
 * Order status changes go through OrdersService.transition with effects.
 */
@Module({
  imports: [OrdersModule],
  providers: [FulfilmentRepository, FulfilmentService, VolunteersRepository, VolunteersService, VenuesRepository, VenuesService, CandidatesRepository, CandidatesService, SchedulingRepository, SchedulingService, AssignmentsRepository, AssignmentsService],
  exports: [FulfilmentService, VolunteersService, VenuesService, CandidatesService, SchedulingService, AssignmentsService],
})
export class VolunteersModule {}
