import { rowsOf } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface IdempotencyRecord {
  requestHash: string;
  responseStatus: number | null;
  responseBody: unknown;
  createdAt: Date;
  isCompleted: boolean;
}

@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Claims the key for this request; false when a record already holds it. */
  async tryStart(userId: string, key: string, requestHash: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO idempotency_records (user_id, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, key) DO NOTHING RETURNING 1`,
      [userId, key, requestHash],
    );
    return rows.length > 0;
  }

  async find(userId: string, key: string): Promise<IdempotencyRecord | null> {
    const rows = await this.dataSource.query<
      { request_hash: string; response_status: number | null; response_body: unknown; created_at: Date; completed_at: Date | null }[]
    >(`SELECT request_hash, response_status, response_body, created_at, completed_at FROM idempotency_records WHERE user_id = $1 AND key = $2`, [
      userId,
      key,
    ]);
    const row = rows[0];
    return row
      ? { requestHash: row.request_hash, responseStatus: row.response_status, responseBody: row.response_body, createdAt: row.created_at, isCompleted: row.completed_at !== null }
      : null;
  }

  /**
   * Takes over a key whose first request died before finishing (its process crashed):
   * only one taker wins, by the conditional update on the old start time.
   */
  async tryTakeOverStale(userId: string, key: string, requestHash: string, startedBefore: Date): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `UPDATE idempotency_records SET created_at = now()
       WHERE user_id = $1 AND key = $2 AND request_hash = $3 AND completed_at IS NULL AND created_at < $4
       RETURNING 1`,
      [userId, key, requestHash, startedBefore],
    );
    return rowsOf(rows).length > 0;
  }

  /** Frees the key after a failed attempt, so the client's retry can run. */
  async release(userId: string, key: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM idempotency_records WHERE user_id = $1 AND key = $2 AND completed_at IS NULL`, [userId, key]);
  }
}
