import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix, freePort, startTcpProxy, testRedisUrl, uniquePrefix, waitFor } from '@cap/testing';
import {
  checkRedisDurability,
  createProducerConnection,
  createWorkerConnection,
  RedisUnavailableError,
  waitForRedis,
} from '../src/index.js';

const url = testRedisUrl();
const redisHost = new URL(url).hostname;
const redisPort = Number(new URL(url).port || 6379);
const prefix = uniquePrefix('queue-conn');

/** Everything a test opens; closed after each test. */
const cleanups: Array<() => unknown> = [];

function track(redis: Redis): Redis {
  // Connection errors are expected in these tests; without a listener ioredis logs them.
  redis.on('error', () => {});
  cleanups.push(() => redis.disconnect());
  return redis;
}

let admin: Redis;

/** A producer connection refuses commands until it is ready (no offline queue): wait for that. */
async function ready(redis: Redis): Promise<Redis> {
  await waitFor(() => redis.status === 'ready', { message: 'the connection to be ready' });
  return redis;
}

beforeAll(async () => {
  admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
});

afterEach(async () => {
  const pending = cleanups.splice(0);
  await Promise.allSettled(pending.reverse().map((c) => c()));
});

afterAll(async () => {
  await deleteRedisPrefix(url, prefix);
  admin?.disconnect();
});

/**
 * A relay in front of the real Redis that can stall: once stalled it keeps the connection open
 * but forwards nothing, as a frozen or overloaded server would look.
 */
async function startStallingRelay(): Promise<{ port: number; stall(): void; close(): Promise<void> }> {
  let stalled = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(redisPort, redisHost);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d) => void (stalled || upstream.write(d)));
    upstream.on('data', (d) => void (stalled || client.write(d)));
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall: () => void (stalled = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('createProducerConnection', () => {
  it('fails fast: no offline queue, a command timeout, a bounded retry count, no key prefix', async () => {
    const conn = track(createProducerConnection({ url, name: 'test-producer' }));
    expect(conn.options.enableOfflineQueue).toBe(false);
    expect(conn.options.commandTimeout).toBe(2000);
    expect(conn.options.connectTimeout).toBe(5000);
    expect(conn.options.maxRetriesPerRequest).toBe(1);
    // Keys are namespaced by BullMQ's prefix, never by ioredis keyPrefix.
    expect(conn.options.keyPrefix ?? '').toBe('');
    expect(conn.options.connectionName).toBe('test-producer');

    const custom = track(
      createProducerConnection({ url, name: 'test-producer-2', commandTimeoutMs: 750, connectTimeoutMs: 1500 }),
    );
    expect(custom.options.commandTimeout).toBe(750);
    expect(custom.options.connectTimeout).toBe(1500);
  });

  it('keeps reconnecting with a delay capped at 2 s', () => {
    const conn = track(createProducerConnection({ url, name: 'test-producer' }));
    const strategy = conn.options.retryStrategy!;
    for (let times = 1; times <= 50; times++) {
      const delay = strategy(times);
      expect(typeof delay).toBe('number');
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });

  it('talks to Redis under its connection name', async () => {
    const conn = await ready(track(createProducerConnection({ url, name: `producer-${prefix}` })));
    const key = `${prefix}:producer`;
    await conn.set(key, 'v');
    expect(await admin.get(key)).toBe('v');
    expect(await conn.client('GETNAME')).toBe(`producer-${prefix}`);
  });

  it('rejects a command at once when Redis is down instead of hanging', async () => {
    const port = await freePort();
    const conn = track(createProducerConnection({ url: `redis://127.0.0.1:${port}`, name: 'test-producer-down' }));
    const started = Date.now();
    await expect(conn.set(`${prefix}:never`, 'v')).rejects.toThrow();
    await expect(conn.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('rejects a command to a stalled Redis after the command timeout', async () => {
    const relay = await startStallingRelay();
    cleanups.push(() => relay.close());
    const conn = track(
      createProducerConnection({ url: `redis://127.0.0.1:${relay.port}`, name: 'test-stalled', commandTimeoutMs: 300 }),
    );
    await ready(conn);
    expect(await conn.ping()).toBe('PONG');
    relay.stall();
    const started = Date.now();
    await expect(conn.get(`${prefix}:stalled`)).rejects.toThrow(/timed out/i);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
  });
});

describe('createWorkerConnection', () => {
  it('retries forever, as BullMQ workers require, with no command timeout or key prefix', () => {
    const conn = track(createWorkerConnection({ url, name: 'test-worker' }));
    expect(conn.options.maxRetriesPerRequest).toBeNull();
    expect(conn.options.enableReadyCheck).toBe(true);
    // Blocking commands (BZPOPMIN) wait for long; a command timeout would break them.
    expect(conn.options.commandTimeout).toBeUndefined();
    expect(conn.options.enableOfflineQueue).not.toBe(false);
    expect(conn.options.keyPrefix ?? '').toBe('');
    expect(conn.options.connectionName).toBe('test-worker');
    expect(conn.options.connectTimeout).toBe(5000);
    const strategy = conn.options.retryStrategy!;
    for (let times = 1; times <= 50; times++) {
      const delay = strategy(times);
      expect(typeof delay).toBe('number');
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(5000);
    }
  });

  it('holds a command while Redis is unreachable and runs it once Redis is back', async () => {
    const proxy = await startTcpProxy(redisHost, redisPort);
    cleanups.push(() => proxy.close());
    proxy.block();
    const conn = track(createWorkerConnection({ url: `redis://127.0.0.1:${proxy.port}`, name: 'test-worker-retry' }));
    let reconnects = 0;
    conn.on('reconnecting', () => reconnects++);
    let settled = false;
    const reply = conn.ping().finally(() => (settled = true));
    await waitFor(() => reconnects >= 2, { timeoutMs: 10_000, message: 'two reconnect attempts' });
    expect(settled).toBe(false);
    proxy.unblock();
    expect(await reply).toBe('PONG');
  });
});

describe('waitForRedis', () => {
  it('resolves when Redis answers', async () => {
    await expect(waitForRedis(url, 5000)).resolves.toBeUndefined();
  });

  it('fails within its timeout with a RedisUnavailableError telling how to start Redis', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await waitForRedis(`redis://:s3cret-pass@127.0.0.1:${port}`, 1000).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    const message = (err as Error).message;
    expect((err as Error).name).toBe('RedisUnavailableError');
    expect(message).toContain(`Redis is not reachable at redis://127.0.0.1:${port}`);
    expect(message).toContain('after 1 s');
    expect(message).toMatch(/redis-server --appendonly yes --maxmemory-policy noeviction/);
    expect(message).toMatch(/REDIS_URL/);
    // Credentials in the URL never reach the message (it is logged).
    expect(message).not.toContain('s3cret-pass');
  });
});

describe('checkRedisDurability against the real server', () => {
  it('warns exactly for the unsafe settings the server has, without changing them', async () => {
    const read = async () => {
      const [, policy] = (await admin.config('GET', 'maxmemory-policy')) as [string, string];
      const [, appendonly] = (await admin.config('GET', 'appendonly')) as [string, string];
      return { policy, appendonly };
    };
    const before = await read();

    const conn = await ready(track(createProducerConnection({ url, name: 'test-durability' })));
    const warnings = await checkRedisDurability(conn);

    const expected = [
      ...(before.policy !== 'noeviction' ? [{ setting: 'maxmemory-policy', value: before.policy }] : []),
      ...(before.appendonly !== 'yes' ? [{ setting: 'appendonly', value: 'no' }] : []),
    ];
    expect(warnings.map(({ setting, value }) => ({ setting, value }))).toEqual(expected);
    for (const w of warnings) expect(w.advice).toMatch(/noeviction|appendonly yes/);

    expect(await read()).toEqual(before);
  });
});
