import { Module } from '@nestjs/common';
import { DashboardPage } from './dashboard-page.service';

/** The coordinators' page at /dashboard (DESIGN.md §6): static files only, the data comes from the coverage API. */
@Module({ providers: [DashboardPage] })
export class DashboardModule {}
