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
