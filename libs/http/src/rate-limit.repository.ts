import { preparedQuery } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

export interface WindowHit {
  key: string;
  max: number;
  windowStart: Date;
  windowEnd: Date;
}

@Injectable()
export class RateLimitRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Counts one hit in every window, all or none: a window already at its `max`
   * is not counted and makes the whole call count nothing. Returns the windows
   * that were full (empty when the hit counted) and each window's count after the call.
   *
   * Each window is one conditional upsert, so a window's row is locked only for
   * its own statement: a single window (most routes) is one round trip with no
   * transaction around it, and a user's parallel writes do not queue behind each
   * other's BEGIN … COMMIT. Several windows are hit in key order inside a
   * transaction (two callers sharing windows never deadlock); when one is full, the
   * windows already hit in that transaction are taken back while still locked, so
   * nobody sees the partial hit. Runs in `manager`'s transaction when given, so a
   * caller that rolls back takes its hit back.
   */
  async hitAll(hits: WindowHit[], manager?: EntityManager): Promise<{ full: WindowHit[]; counts: number[] }> {
    const sorted = [...hits].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.windowStart.getTime() - b.windowStart.getTime()));
    const run = async (m: EntityManager | null): Promise<{ full: WindowHit[]; counts: number[] }> => {
      const counted = new Map<WindowHit, number>();
      for (const hit of sorted) {
        const after = await this.hitOne(m, hit);
        if (after === null) {
          if (counted.size > 0) await this.unhit([...counted.keys()], m ?? undefined);
          return { full: [hit], counts: hits.map((h) => (h === hit ? h.max : (counted.get(h) ?? 1) - 1)) };
        }
        counted.set(hit, after);
      }
      return { full: [], counts: hits.map((h) => counted.get(h) ?? 0) };
    };
    if (manager) return run(manager);
    return sorted.length === 1 ? run(null) : this.dataSource.transaction(run);
  }

  /**
   * One hit in one window unless it is full: the count after it, or null when the window was full.
   * Without a transaction (`m` null) it is a prepared statement on a pool connection of its own.
   */
  private async hitOne(m: EntityManager | null, hit: WindowHit): Promise<number | null> {
    const text = `INSERT INTO rate_limit_counters AS c (key, window_start, window_end, hits) SELECT $1, $2, $3, 1 WHERE $4::int > 0
       ON CONFLICT (key, window_start) DO UPDATE SET hits = c.hits + 1 WHERE c.hits < $4::int
       RETURNING c.hits`;
    const params = [hit.key, hit.windowStart, hit.windowEnd, hit.max];
    const rows = m ? await m.query<{ hits: number }[]>(text, params) : await preparedQuery<{ hits: number }>(this.dataSource, 'rate_limit_hit_one', text, params);
    return rows[0]?.hits ?? null;
  }

  /** Takes one hit back from each window (never below 0). */
  async unhit(windows: { key: string; windowStart: Date }[], manager?: EntityManager): Promise<void> {
    const sorted = [...windows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    await (manager ?? this.dataSource.manager).query(
      `UPDATE rate_limit_counters c SET hits = greatest(0, c.hits - 1)
       FROM jsonb_to_recordset($1::jsonb) AS h(key text, window_start timestamptz)
       WHERE c.key = h.key AND c.window_start = h.window_start`,
      [JSON.stringify(sorted.map((w) => ({ key: w.key, window_start: w.windowStart })))],
    );
  }

  /** The hits each window holds (0 for a window never hit). */
  async hitsOf(windows: { key: string; windowStart: Date }[]): Promise<number[]> {
    const rows = await this.dataSource.query<{ hits: number | null }[]>(
      `SELECT c.hits FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (key text, window_start timestamptz)) WITH ORDINALITY AS w(key, window_start, n)
       LEFT JOIN rate_limit_counters c ON c.key = w.key AND c.window_start = w.window_start ORDER BY w.n`,
      [JSON.stringify(windows.map((w) => ({ key: w.key, window_start: w.windowStart })))],
    );
    return rows.map((r) => r.hits ?? 0);
  }

  /** Forgets windows that ended before `before`. */
  async purge(before: Date): Promise<number> {
    const result = await this.dataSource.query<[unknown[], number]>(`DELETE FROM rate_limit_counters WHERE window_end < $1`, [before]);
    return Array.isArray(result) ? result[1] : 0;
  }
}
