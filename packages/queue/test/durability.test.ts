import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startOwnRedis, testRedisUrl, waitFor, type OwnRedis } from '@cap/testing';
import { type DurabilityBarrier, NotDurableError, detectDurability, openDurabilityBarrier } from '../src/index.js';

const servers: OwnRedis[] = [];
const clients: Redis[] = [];
afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers.reverse()) await s.close();
});

async function own(opts: Parameters<typeof startOwnRedis>[0]): Promise<OwnRedis> {
  const s = await startOwnRedis(opts);
  servers.push(s);
  return s;
}

function connect(url: string): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  clients.push(c);
  return c;
}

async function version(redis: Redis): Promise<string> {
  return /^redis_version:(.*)$/m.exec(await redis.info('server'))![1]!.trim();
}

function atLeast72(v: string): boolean {
  const [a = 0, b = 0] = v.split('.').map(Number);
  return a > 7 || (a === 7 && b >= 2);
}

async function barrierFor(url: string, timeoutMs = 500): Promise<DurabilityBarrier> {
  const barrier = await openDurabilityBarrier({
    url,
    probe: connect(url),
    key: 'test:durability-barrier',
    timeoutMs,
    connectTimeoutMs: 2000,
  });
  return barrier;
}

describe('what Redis can confirm (detectDurability)', () => {
  it('nothing without AOF or replicas: a confirmation does not wait', async () => {
    const s = await own({ appendonly: false });
    const durability = await detectDurability(connect(s.url));
    expect(durability.mode).toBe('none');
    expect(durability.detail).toMatch(/AOF is off/);
    const barrier = await barrierFor(s.url);
    expect(barrier.waits).toBe(false);
    await barrier.confirm();
    await barrier.close();
  });

  it('appendfsync always: every reply already means on disk', async () => {
    const s = await own({ appendonly: true, appendfsync: 'always' });
    expect((await detectDurability(connect(s.url))).mode).toBe('fsync');
  });

  it('AOF every second: WAITAOF on Redis ≥ 7.2, and a warning (none) below it', async () => {
    const s = await own({ appendonly: true, appendfsync: 'everysec' });
    const redis = connect(s.url);
    const durability = await detectDurability(redis);
    if (atLeast72(await version(redis))) {
      expect(durability.mode).toBe('waitaof');
      const barrier = await barrierFor(s.url, 3000);
      await redis.set('k', 'v');
      await barrier.confirm();
      await barrier.close();
    } else {
      expect(durability.mode).toBe('none');
      expect(durability.detail).toMatch(/WAITAOF needs 7\.2/);
    }
  });

  it('the shared test server is one of these', async () => {
    expect(['none', 'fsync', 'waitaof', 'replica']).toContain((await detectDurability(connect(testRedisUrl()))).mode);
  });
});

describe('a replica confirms (WAIT)', () => {
  it('confirms many callers with few rounds, and refuses in time when the replica stops answering', async () => {
    const primary = await own({ appendonly: false });
    const replica = await own({ appendonly: false, replicaOf: primary.port });
    await waitFor(async () => /master_link_status:up/.test(await replica.admin.info('replication')), {
      message: 'the replica in sync',
    });
    const barrier = await barrierFor(primary.url, 500);
    expect(barrier.durability.mode).toBe('replica');
    const redis = connect(primary.url);

    const before = await waitCalls(primary);
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await redis.set(`k${i}`, 'v');
        await barrier.confirm();
      }),
    );
    // Callers that arrive while a round waits share the next one.
    expect((await waitCalls(primary)) - before).toBeLessThan(50);
    expect(await replica.admin.get('k49')).toBe('v');

    replica.freeze();
    try {
      await redis.set('after-freeze', 'v');
      const started = Date.now();
      await expect(barrier.confirm()).rejects.toBeInstanceOf(NotDurableError);
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      replica.thaw();
    }
    await waitFor(async () => (await replica.admin.get('after-freeze')) === 'v', { message: 'the replica caught up' });
    await barrier.confirm();
    await barrier.close();
  });
});

async function waitCalls(s: OwnRedis): Promise<number> {
  const stats = await s.admin.info('commandstats');
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}
