import { QueryFailedError } from 'typeorm';

/** Numbered parameters ($1, $2, …) for SQL built from parts, e.g. a scope predicate plus filters. */
export class Sql {
  readonly params: unknown[] = [];

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/**
 * The rows of a `query()` answer: TypeORM's postgres driver answers
 * UPDATE/DELETE … RETURNING with `[rows, affected]`, SELECT and INSERT with the rows.
 */
export const rowsOf = <T>(result: unknown): T[] => (Array.isArray((result as unknown[])[0]) ? ((result as unknown[])[0] as T[]) : (result as T[]));

/** The part of node-postgres' pool a prepared query needs. */
interface PgPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * A hot statement as a named prepared statement on the data source's own pool: each
 * connection parses and plans it once (PostgreSQL then keeps a generic plan), where
 * `dataSource.query` plans the text on every call. For the statements a worker runs
 * per job, whose planning costs more than their execution. `name` must be unique per
 * text and at most 63 bytes (PostgreSQL cuts longer names, so two would collide). Outside a transaction only (it takes any free connection of the pool).
 */
export async function preparedQuery<T>(dataSource: { driver: unknown; query: (text: string, params: unknown[]) => Promise<unknown> }, name: string, text: string, params: unknown[]): Promise<T[]> {
  const pool = (dataSource.driver as { master?: PgPool }).master;
  if (!pool) return (await dataSource.query(text, params)) as T[];
  try {
    return (await pool.query({ name, text, values: params })).rows as T[];
  } catch (error) {
    // As `dataSource.query` does, so callers and the problem-details filter see one error type.
    throw new QueryFailedError(text, params, error as Error);
  }
}
