import { DependencyUnavailableError } from '@kepu/core';
import { HashGate } from './hash-gate';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('the password hash gate', () => {
  it('never runs more than its concurrency at once, queues up to its bound and refuses the rest with 503', async () => {
    const gate = new HashGate(2, 3);
    let inFlight = 0;
    let most = 0;
    const work = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      inFlight--;
      return 'done';
    };
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => gate.run(work)));
    expect(most).toBe(2);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(DependencyUnavailableError);
      expect((r.reason as DependencyUnavailableError).headers['Retry-After']).toBe('1');
    }
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot when the work throws', async () => {
    const gate = new HashGate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(() => Promise.resolve(1))).resolves.toBe(1);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });
});
