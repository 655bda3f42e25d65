import { NotificationsModule } from '@kepu/notifications';
import { OrdersModule } from '@kepu/orders';
import { Module } from '@nestjs/common';
import { AssignmentsRepository } from './assignments.repository';
import { AssignmentsService } from './assignments.service';
import { CandidatesRepository } from './candidates.repository';
import { CandidatesService } from './candidates.service';
import { OrderFulfilmentModule } from './order-fulfilment.module';
import { FulfilmentRepository } from './fulfilment.repository';
import { FulfilmentService } from './fulfilment.service';
import { SchedulingRepository } from './scheduling.repository';
import { SchedulingService } from './scheduling.service';
import { VenuesRepository } from './venues.repository';
import { VolunteerApplicationsRepository } from './volunteer-applications.repository';
import { VolunteerApplicationsService } from './volunteer-applications.service';
import { VenuesService } from './venues.service';
import { VolunteersRepository } from './volunteers.repository';
import { VolunteersService } from './volunteers.service';
import { CheckInCodes } from './check-in-codes';

/**
 * Fulfilment (志愿组织接单 → 派员 → 履约 → 评单): volunteers, venues, candidates,
 * scheduling, assignments and open slots, check-in/out, service records, rating.
 * Order status changes go through OrdersService (authorize, applyTransition, recordTransition)
 * in one transaction with this library's writes; the order's own transitions reach
 * bookings and assignments through OrderFulfilment (OrderFulfilmentModule).
 */
@Module({
  imports: [OrdersModule, OrderFulfilmentModule, NotificationsModule],
  providers: [FulfilmentRepository, FulfilmentService, VolunteersRepository, VolunteersService, VenuesRepository, VenuesService, CandidatesRepository, CandidatesService, SchedulingRepository, SchedulingService, AssignmentsRepository, AssignmentsService, VolunteerApplicationsRepository, VolunteerApplicationsService, CheckInCodes],
  exports: [FulfilmentService, VolunteersService, VenuesService, CandidatesService, SchedulingService, AssignmentsService, VolunteerApplicationsService, CheckInCodes],
})
export class VolunteersModule {}
