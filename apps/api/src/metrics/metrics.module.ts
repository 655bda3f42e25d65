import { NotificationsModule } from '@kepu/notifications';
import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsRepository } from './metrics.repository';
import { MetricsService } from './metrics.service';

/** `GET /metrics` for Prometheus, public like /health. */
@Module({
  imports: [NotificationsModule],
  controllers: [MetricsController],
  providers: [MetricsRepository, MetricsService],
})
export class MetricsModule {}
