import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * Two kinds of Redis connection:
 * - producers on HTTP paths fail fast: no offline queue and a command timeout, so a dropped or
 *   stalled Redis turns into a 503 within seconds instead of a hanging request;
 * - workers retry forever (`maxRetriesPerRequest: null`, as BullMQ requires for blocking
 *   commands) and reconnect with capped backoff.
 * Keys are namespaced with BullMQ's `prefix`, never ioredis `keyPrefix`.
 */

/**
 * The forms of REDIS_URL: `redis://[user:password@]host:port[/db]` (`rediss://` with TLS), or
 * through Sentinel, `redis+sentinel://[user:password@]host:port[,host:port…]/<master name>[/db]`:
 * the sentinels to ask, then the name of the monitored primary. With Sentinel, ioredis asks the
 * sentinels for the current primary and follows a failover; the password is the primary's (and,
 * when set, the sentinels').
 */
export const SENTINEL_URL = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/@]+)\/([A-Za-z0-9_.-]+)(?:\/(\d+))?$/;

/**
 * Redis Cluster: `redis+cluster://[user:password@]host:port[,host:port…]`, some of its nodes (the
 * rest are discovered). Every key the platform writes starts with BULLMQ_PREFIX, which must then
 * be a hash tag (`{cap}`), so BullMQ's and the platform's multi-key scripts find their keys in one
 * slot.
 */
export const CLUSTER_URL = /^redis\+cluster:\/\/(?:([^@/]*)@)?([^/@]+?)\/?$/;

/** True when REDIS_URL names a Redis Cluster. */
export function isClusterUrl(url: string): boolean {
  return CLUSTER_URL.test(url);
}

/** `user:password` of a URL's authority, decoded (either may be empty). */
function credentials(auth: string | undefined): { username?: string; password?: string } {
  if (!auth) return {};
  const [user, password] = auth.split(':').map((p) => decodeURIComponent(p));
  return { ...(user ? { username: user } : {}), ...(password ? { password } : {}) };
}

function hostPorts(list: string): { host: string; port: number }[] {
  return list.split(',').map((hostPort) => {
    const at = hostPort.lastIndexOf(':');
    return { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) };
  });
}

/**
 * A connection to the Redis a REDIS_URL names, with `options` for each node: a `Redis`, or for a
 * cluster URL an ioredis `Cluster`, which speaks the same commands (routing each by its key) and
 * which BullMQ takes as well; it is typed as `Redis` for the code that only sends commands.
 */
export function connectRedis(url: string, options: RedisOptions): Redis {
  const cluster = CLUSTER_URL.exec(url);
  if (!cluster) return new Redis({ ...redisTarget(url), ...options });
  const [, auth, hosts] = cluster;
  const { retryStrategy, enableOfflineQueue, ...nodeOptions } = options;
  return new Cluster(hostPorts(hosts!), {
    redisOptions: { ...nodeOptions, ...credentials(auth) },
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
  }) as unknown as Redis;
}

/** The ioredis options that reach the Redis a REDIS_URL names (not a cluster: see connectRedis). */
export function redisTarget(url: string): RedisOptions {
  const sentinel = SENTINEL_URL.exec(url);
  if (!sentinel) {
    const u = new URL(url);
    return {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: Number(u.port || 6379),
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    };
  }
  const [, auth, hosts, name, db] = sentinel;
  const { username, password } = credentials(auth);
  return {
    sentinels: hostPorts(hosts!),
    name: name!,
    ...(username ? { username } : {}),
    ...(password ? { password, sentinelPassword: password } : {}),
    ...(db ? { db: Number(db) } : {}),
  };
}

export interface ConnectionOptions {
  readonly url: string;
  /** Shown in `CLIENT LIST`, handy when an operator looks at a busy Redis. */
  readonly name: string;
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

function reconnectDelay(times: number, capMs: number): number {
  const base = Math.min(capMs, 100 * 2 ** Math.min(times, 10));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

export function createProducerConnection(opts: ConnectionOptions): Redis {
  const options: RedisOptions = {
    connectionName: opts.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    retryStrategy: (times) => reconnectDelay(times, 2000),
    // A lost connection is retried by the strategy above; requests fail fast meanwhile.
    reconnectOnError: () => false,
  };
  return connectRedis(opts.url, options);
}

export function createWorkerConnection(opts: ConnectionOptions): Redis {
  const options: RedisOptions = {
    connectionName: opts.name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    retryStrategy: (times) => reconnectDelay(times, 5000),
  };
  return connectRedis(opts.url, options);
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/** Where a REDIS_URL points, without credentials. */
function describeUrl(url: string): string {
  const sentinel = SENTINEL_URL.exec(url);
  if (sentinel) return `the primary "${sentinel[3]}" of the sentinels ${sentinel[2]}`;
  const cluster = CLUSTER_URL.exec(url);
  if (cluster) return `the cluster nodes ${cluster[2]}`;
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || 6379}`;
}

/**
 * Waits until Redis answers PING, or fails within `timeoutMs` with a message telling how to get
 * one. Used at start so a missing Redis is a clear error, not a silent retry loop.
 */
export async function waitForRedis(url: string, timeoutMs: number): Promise<void> {
  const client = connectRedis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.min(timeoutMs, 2000),
    retryStrategy: () => null,
    connectionName: 'startup-probe',
  });
  client.on('error', () => {});
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  try {
    while (Date.now() < deadline) {
      try {
        if (client.status !== 'ready') await client.connect();
        await client.ping();
        return;
      } catch (err) {
        lastError = (err as Error).message;
        client.disconnect();
        await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))));
      }
    }
  } finally {
    client.disconnect();
  }
  throw new RedisUnavailableError(
    `Redis is not reachable at ${describeUrl(url)} (${lastError}) after ${Math.round(timeoutMs / 1000)} s. ` +
      'Start one (`redis-server --appendonly yes --maxmemory-policy noeviction`, or ' +
      '`docker compose up -d redis`) or point REDIS_URL at a running server.',
  );
}

/** One `name:value` line of Redis's INFO text, trimmed; undefined when absent. */
export function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

export interface RedisHealthWarning {
  readonly setting: string;
  readonly value: string;
  readonly advice: string;
}

/**
 * Reads INFO (CONFIG may be disabled on managed Redis) and returns what is unsafe for queues:
 * an eviction policy other than `noeviction` (Redis could drop jobs under memory pressure) and
 * no AOF (jobs acknowledged to Clockify could vanish on restart).
 */
export async function checkRedisDurability(client: Redis): Promise<RedisHealthWarning[]> {
  const info = await client.info();
  const field = (name: string) => infoField(info, name);
  const warnings: RedisHealthWarning[] = [];
  const policy = field('maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    warnings.push({
      setting: 'maxmemory-policy',
      value: policy,
      advice: 'set maxmemory-policy noeviction so Redis never evicts queued jobs',
    });
  }
  const aof = field('aof_enabled');
  if (aof !== undefined && aof !== '1') {
    warnings.push({
      setting: 'appendonly',
      value: 'no',
      advice: 'enable appendonly yes so acknowledged webhooks survive a Redis restart',
    });
  }
  return warnings;
}
