import { checkEvictionPolicy, type RedisConfigClient } from './redis-policy.check';

function clientAnswering(answer: () => Promise<unknown>): RedisConfigClient & { config: jest.Mock } {
  return { config: jest.fn(answer) };
}

function logger() {
  return { warn: jest.fn(), log: jest.fn() };
}

describe('checkEvictionPolicy', () => {
  it('warns, naming the policy and the fix, when Redis may evict BullMQ keys', async () => {
    const log = logger();
    const client = clientAnswering(async () => ['maxmemory-policy', 'allkeys-lru']);
    await expect(checkEvictionPolicy(client, log)).resolves.toBe('allkeys-lru');
    expect(client.config).toHaveBeenCalledWith('GET', 'maxmemory-policy');
    expect(log.warn).toHaveBeenCalledTimes(1);
    const message = String(log.warn.mock.calls[0]?.[0]);
    expect(message).toContain('"allkeys-lru"');
    expect(message).toContain('CONFIG SET maxmemory-policy noeviction');
  });

  it('is silent on noeviction', async () => {
    const log = logger();
    await expect(checkEvictionPolicy(clientAnswering(async () => ['maxmemory-policy', 'noeviction']), log)).resolves.toBe('noeviction');
    expect(log.warn).not.toHaveBeenCalled();
    expect(log.log).not.toHaveBeenCalled();
  });

  it('reads a RESP3 map answer too', async () => {
    const log = logger();
    await expect(checkEvictionPolicy(clientAnswering(async () => ({ 'maxmemory-policy': 'volatile-ttl' })), log)).resolves.toBe('volatile-ttl');
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it('tolerates CONFIG being disabled (managed Redis): no throw, no warning, a note', async () => {
    const log = logger();
    const client = clientAnswering(async () => {
      throw new Error("ERR unknown command 'CONFIG'");
    });
    await expect(checkEvictionPolicy(client, log)).resolves.toBeNull();
    expect(log.warn).not.toHaveBeenCalled();
    expect(String(log.log.mock.calls[0]?.[0])).toContain('unknown command');
  });
});
