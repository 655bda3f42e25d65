import { VersionedCache, type Versioned } from './versioned-cache';

const loader = (version: bigint, value: string) => {
  const load = jest.fn(async (): Promise<Versioned<string>> => ({ version, value }));
  return load;
};

describe('VersionedCache', () => {
  it('loads on a miss and serves the stored value while the version stays', async () => {
    const cache = new VersionedCache<string>(2);
    const first = loader(1n, 'a@1');
    expect((await cache.get('a', 1n, first)).value).toBe('a@1');
    expect((await cache.get('a', 1n, loader(1n, 'never'))).value).toBe('a@1');
    expect(first).toHaveBeenCalledTimes(1);
  });

  it('reloads as soon as the version read by a request is newer than the stored one', async () => {
    const cache = new VersionedCache<string>(2);
    await cache.get('a', 1n, loader(1n, 'a@1'));
    const second = loader(2n, 'a@2');
    expect((await cache.get('a', 2n, second)).value).toBe('a@2');
    expect(second).toHaveBeenCalledTimes(1);
    expect((await cache.get('a', 2n, loader(2n, 'never'))).value).toBe('a@2');
  });

  it('keeps a newer stored value when a request read an older version (another process or request already reloaded)', async () => {
    const cache = new VersionedCache<string>(2);
    await cache.get('a', 3n, loader(3n, 'a@3'));
    const never = loader(2n, 'never');
    expect((await cache.get('a', 2n, never)).value).toBe('a@3');
    expect(never).not.toHaveBeenCalled();
  });

  it('stores what a load read under the version it read, even when that is newer than asked', async () => {
    const cache = new VersionedCache<string>(2);
    expect((await cache.get('a', 1n, loader(4n, 'a@4'))).version).toBe(4n);
    expect((await cache.get('a', 4n, loader(4n, 'never'))).value).toBe('a@4');
  });

  it('never replaces a newer entry by a load that finishes later with an older version', async () => {
    const cache = new VersionedCache<string>(2);
    let finishSlow: (v: Versioned<string>) => void = () => undefined;
    const slow = cache.get('a', 1n, () => new Promise((resolve) => (finishSlow = resolve)));
    // While the slow load runs, a request that read version 5 cannot use it and loads again.
    const fast = await cache.get('a', 5n, loader(5n, 'a@5'));
    expect(fast.value).toBe('a@5');
    finishSlow({ version: 1n, value: 'a@1' });
    expect((await slow).value).toBe('a@1');
    expect((await cache.get('a', 5n, loader(5n, 'never'))).value).toBe('a@5');
  });

  it('shares one load among concurrent misses of one key', async () => {
    const cache = new VersionedCache<string>(2);
    const load = jest.fn(async (): Promise<Versioned<string>> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { version: 1n, value: 'a@1' };
    });
    const answers = await Promise.all([cache.get('a', 1n, load), cache.get('a', 1n, load), cache.get('a', 1n, load)]);
    expect(answers.map((a) => a.value)).toEqual(['a@1', 'a@1', 'a@1']);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed load: the next request loads again', async () => {
    const cache = new VersionedCache<string>(2);
    await expect(cache.get('a', 1n, () => Promise.reject(new Error('connection lost')))).rejects.toThrow('connection lost');
    expect((await cache.get('a', 1n, loader(1n, 'a@1'))).value).toBe('a@1');
  });

  it('keeps at most `capacity` keys, the least recently used out first', async () => {
    const cache = new VersionedCache<string>(2);
    await cache.get('a', 1n, loader(1n, 'a'));
    await cache.get('b', 1n, loader(1n, 'b'));
    await cache.get('a', 1n, loader(1n, 'never')); // a is now the most recent
    await cache.get('c', 1n, loader(1n, 'c'));
    expect(cache.size).toBe(2);
    const reloadB = loader(1n, 'b again');
    expect((await cache.get('b', 1n, reloadB)).value).toBe('b again');
    expect(reloadB).toHaveBeenCalledTimes(1);
    const keepA = loader(1n, 'never');
    await cache.get('c', 1n, keepA);
    expect(keepA).not.toHaveBeenCalled();
  });

  it('refuses a capacity below one', () => {
    expect(() => new VersionedCache<string>(0)).toThrow();
  });
});
