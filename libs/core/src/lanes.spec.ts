import { DependencyUnavailableError } from './errors';
import { type Decision, Lanes } from './lanes';

/** A promise the test resolves when it chooses: a decision held open like a transaction waiting for a row lock. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = () => resolve();
  });
  return { opened, open: () => open() };
}

describe('lanes: one step at a time per key (an event), consecutive items decided together', () => {
  it('the first item goes alone; those that arrive meanwhile wait and go in one batch, in their order; another key runs beside them', async () => {
    const held = gate();
    const batches: string[][] = [];
    let running = 0;
    let most = 0;
    const lanes = new Lanes<string, string>({
      queue: 10,
      batch: 10,
      busyDetail: 'busy',
      decide: async (key, items) => {
        batches.push([key, ...items]);
        running++;
        most = Math.max(most, running);
        if (key === 'a' && batches.length === 1) await held.opened;
        running--;
        return items.map((item): Decision<string> => ({ status: 'fulfilled', value: `${key}:${item}` }));
      },
    });
    const first = lanes.submit('a', '1');
    const rest = ['2', '3', '4'].map((item) => lanes.submit('a', item));
    expect(lanes.load('a')).toEqual({ deciding: 1, waiting: 3 });
    await expect(lanes.submit('b', 'x')).resolves.toBe('b:x');
    held.open();
    expect(await Promise.all([first, ...rest])).toEqual(['a:1', 'a:2', 'a:3', 'a:4']);
    expect(batches).toEqual([['a', '1'], ['b', 'x'], ['a', '2', '3', '4']]);
    // Only keys differ in parallel: a and b, never two of a.
    expect(most).toBe(2);
    expect(lanes.load('a')).toEqual({ deciding: 0, waiting: 0 });
  });

  it('a batch takes at most `batch` items; each item gets its own decision, a refusal only its own', async () => {
    const held = gate();
    const sizes: number[] = [];
    const lanes = new Lanes<number, number>({
      queue: 10,
      batch: 2,
      busyDetail: 'busy',
      decide: async (_key, items) => {
        sizes.push(items.length);
        if (sizes.length === 1) await held.opened;
        return items.map((n): Decision<number> => (n % 2 === 0 ? { status: 'rejected', reason: new Error(`even ${n}`) } : { status: 'fulfilled', value: n * 10 }));
      },
    });
    const outcomes = Promise.allSettled([1, 2, 3, 4, 5].map((n) => lanes.submit('e', n)));
    held.open();
    const settled = await outcomes;
    expect(sizes).toEqual([1, 2, 2]);
    expect(settled.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([10, 'even 2', 30, 'even 4', 50]);
  });

  it('a decision that throws refuses its batch only; the lane goes on', async () => {
    let calls = 0;
    const lanes = new Lanes<string, string>({
      queue: 10,
      batch: 10,
      busyDetail: 'busy',
      decide: (_key, items) => {
        calls++;
        if (calls === 1) return Promise.reject(new Error('connection lost'));
        return Promise.resolve(items.map((item): Decision<string> => ({ status: 'fulfilled', value: item })));
      },
    });
    const failed = lanes.submit('e', 'first');
    const next = lanes.submit('e', 'second');
    await expect(failed).rejects.toThrow('connection lost');
    await expect(next).resolves.toBe('second');
  });

  it('exclusive work runs alone in its place in the line: items before it in one batch, items after it in the next', async () => {
    const held = gate();
    const steps: string[] = [];
    const lanes = new Lanes<string, string>({
      queue: 10,
      batch: 10,
      busyDetail: 'busy',
      decide: async (_key, items) => {
        steps.push(items.join(','));
        if (steps.length === 1) await held.opened;
        return items.map((item): Decision<string> => ({ status: 'fulfilled', value: item }));
      },
    });
    const all = [
      lanes.submit('e', 'a'),
      lanes.submit('e', 'b'),
      lanes.submit('e', 'c'),
      lanes.exclusive('e', () => {
        steps.push('cancel');
        return Promise.resolve('cancelled');
      }),
      lanes.submit('e', 'd'),
      lanes.exclusive('e', () => Promise.reject(new Error('not active'))).catch((error: Error) => error.message),
      lanes.submit('e', 'f'),
    ];
    held.open();
    expect(await Promise.all(all)).toEqual(['a', 'b', 'c', 'cancelled', 'd', 'not active', 'f']);
    expect(steps).toEqual(['a', 'b,c', 'cancel', 'd', 'f']);
  });

  it('past `queue` waiting entries a newcomer is refused at once with 503 and Retry-After: 1; the lane frees as it drains', async () => {
    const held = gate();
    const lanes = new Lanes<number, number>({
      queue: 2,
      batch: 10,
      busyDetail: 'Too many sign-ups for this event at once.',
      decide: async (_key, items) => {
        await held.opened;
        return items.map((n): Decision<number> => ({ status: 'fulfilled', value: n }));
      },
    });
    const taken = [lanes.submit('e', 1), lanes.submit('e', 2), lanes.submit('e', 3)];
    const refused = lanes.submit('e', 4);
    await expect(refused).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(refused).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', headers: { 'Retry-After': '1' } });
    await expect(lanes.exclusive('e', () => Promise.resolve(0))).rejects.toBeInstanceOf(DependencyUnavailableError);
    // Another event has a lane of its own.
    expect(lanes.load('other')).toEqual({ deciding: 0, waiting: 0 });
    held.open();
    expect(await Promise.all(taken)).toEqual([1, 2, 3]);
    await expect(lanes.submit('e', 5)).resolves.toBe(5);
  });
});
