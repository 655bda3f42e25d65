import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The PostgreSQL side of the operational gauges, read at scrape time. */
@Injectable()
export class MetricsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Outbox messages the relay has not published yet (served by the partial index outbox_unpublished_idx). */
  async outboxBacklog(): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`)) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  async deliveriesByStatus(): Promise<Map<string, number>> {
    const rows = (await this.dataSource.query(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`)) as { status: string; n: number }[];
    return new Map(rows.map((row) => [row.status, row.n]));
  }
}
