import { DependencyUnavailableError } from './errors';

/** What deciding a batch gives each of its items, in the batch's order: one item's refusal is not the others'. */
export type Decision<R> = PromiseSettledResult<R>;

interface QueuedItem<S, R> {
  kind: 'item';
  item: S;
  resolve: (result: R) => void;
  reject: (reason: unknown) => void;
}

interface QueuedWork {
  kind: 'exclusive';
  work: () => Promise<unknown>;
  resolve: (result: unknown) => void;
  reject: (reason: unknown) => void;
}

type Entry<S, R> = QueuedItem<S, R> | QueuedWork;

interface Lane<S, R> {
  /** Waiting, first come first. */
  entries: Entry<S, R>[];
  /** Items (or 1 exclusive work) being decided now. */
  deciding: number;
}

export interface LanesOptions<S, R> {
  /** Entries one key's lane holds waiting (not counting those being decided); past it a newcomer is refused with 503. */
  queue: number;
  /** Items decided together at most. */
  batch: number;
  /** Decides consecutive items of one key at once; returns one decision per item, in their order. */
  decide: (key: string, items: S[]) => Promise<Decision<R>[]>;
  /** The 503's detail when a lane is full. */
  busyDetail: string;
}

/**
 * One lane per key in this process (an event's sign-ups, the worker's rollup refreshes):
 * what is queued on it runs one step at a time, in arrival order, so the process never
 * holds more than one database connection for one key's work. Consecutive items are
 * decided together, up to `batch` at once (group commit): the first item of a quiet lane
 * goes at once, and those that arrive while it is being decided wait in memory — not in
 * the pool, each holding a connection that waits for the same row lock — and go in the
 * next step together. Exclusive work (a cancellation) runs alone in its place in the line.
 * At most `queue` entries wait per key; past that a newcomer is refused at once, 503
 * DEPENDENCY_UNAVAILABLE with `Retry-After: 1`, as the password hash gate does (libs/auth).
 */
export class Lanes<S, R> {
  private readonly lanes = new Map<string, Lane<S, R>>();

  constructor(private readonly options: LanesOptions<S, R>) {}

  /** The item's own decision, once its batch is decided. */
  submit(key: string, item: S): Promise<R> {
    return new Promise<R>((resolve, reject) => this.enqueue(key, { kind: 'item', item, resolve, reject }));
  }

  /** Runs `work` alone on the key's lane, after everything queued before it. */
  exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.enqueue(key, { kind: 'exclusive', work, resolve: resolve as (result: unknown) => void, reject }));
  }

  /** A key's entries being decided and waiting now: for tests and metrics. */
  load(key: string): { deciding: number; waiting: number } {
    const lane = this.lanes.get(key);
    return { deciding: lane?.deciding ?? 0, waiting: lane?.entries.length ?? 0 };
  }

  private enqueue(key: string, entry: Entry<S, R>): void {
    const lane = this.lanes.get(key);
    if (lane) {
      if (lane.entries.length >= this.options.queue) throw new DependencyUnavailableError(this.options.busyDetail, 1);
      lane.entries.push(entry);
      return;
    }
    // A lane exists exactly while its runner runs: created here with its first entry, deleted by the runner when empty.
    const fresh: Lane<S, R> = { entries: [entry], deciding: 0 };
    this.lanes.set(key, fresh);
    void this.run(key, fresh);
  }

  private async run(key: string, lane: Lane<S, R>): Promise<void> {
    while (lane.entries.length > 0) {
      const head = lane.entries[0] as Entry<S, R>;
      if (head.kind === 'exclusive') {
        lane.entries.shift();
        lane.deciding = 1;
        try {
          head.resolve(await head.work());
        } catch (error) {
          head.reject(error);
        }
        continue;
      }
      let n = 1;
      while (n < lane.entries.length && n < this.options.batch && lane.entries[n]?.kind === 'item') n++;
      const batch = lane.entries.splice(0, n) as QueuedItem<S, R>[];
      lane.deciding = batch.length;
      await this.decide(key, batch);
    }
    lane.deciding = 0;
    this.lanes.delete(key);
  }

  private async decide(key: string, batch: QueuedItem<S, R>[]): Promise<void> {
    let decisions: Decision<R>[];
    try {
      decisions = await this.options.decide(key, batch.map((e) => e.item));
    } catch (error) {
      for (const e of batch) e.reject(error);
      return;
    }
    batch.forEach((e, i) => {
      const decision = decisions[i];
      if (decision?.status === 'fulfilled') e.resolve(decision.value);
      else e.reject(decision ? decision.reason : new Error(`no decision for item ${i} of a batch of ${batch.length}`));
    });
  }
}
