/** Numbered parameters ($1, $2, …) for SQL built from parts, e.g. a scope predicate plus filters. */
export class Sql {
  readonly params: unknown[] = [];

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}
