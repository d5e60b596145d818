import { createHash, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import type { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { expect } from 'vitest';
import type { RegisteredAddon } from '@cap/addon';
import { signAddonToken } from '@cap/clockify';
import { migrateToLatest, type Database, type DatabaseHandle } from '@cap/db';
import { createLogger } from '@cap/observability';
import type { Queues } from '@cap/queue';
import { createTestDatabase, deleteRedisPrefix, testRedisUrl, uniquePrefix, type TestDatabase } from '@cap/testing';
import { addon as exampleAddon } from '@cap/workspace-mirror';
import { ingressEnv, startIngress, type IngressConfig, type RunningIngress } from '../src/index.js';

export interface TestKeys {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

export function generateTestKeys(): TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export const ADDON_KEY = 'workspace-mirror';
export const ADMIN = { username: 'operator', password: 'correct-horse-battery' } as const;

export interface TestIngress {
  readonly url: string;
  readonly port: number;
  /** The ops port's base URL: /health, detailed /ready, /metrics. */
  readonly opsUrl: string;
  readonly ingress: RunningIngress;
  readonly config: IngressConfig;
  readonly keys: TestKeys;
  readonly prefix: string;
  readonly queues: Queues;
  /** SQL statements the ingress ran (component/admin routes may; webhook/lifecycle must not). */
  readonly queries: string[];
  /** Every log line the ingress wrote. */
  readonly logs: string[];
  readonly db: Kysely<Database>;
  webhookToken(workspaceId: string, addonId?: string): Promise<string>;
  lifecycleToken(claims?: { workspaceId?: string; addonId?: string }): Promise<string>;
  installationToken(workspaceId: string, addonId: string): Promise<string>;
  /** A user token; `claims` override the defaults (e.g. `{ workspaceRole: 'USER' }`). */
  userToken(workspaceId: string, addonId: string, claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * An ingress on port 0 against the real Redis (own BullMQ prefix) and a fresh database whose
 * queries are recorded, verifying tokens with a key pair made for the test. `env` overrides any
 * variable, REDIS_URL included (fault tests point it at a redis-server of their own).
 */
export async function startTestIngress(
  env: Record<string, string> = {},
  shared?: { keys?: TestKeys; database?: TestDatabase; addon?: RegisteredAddon },
): Promise<TestIngress> {
  const keys = shared?.keys ?? generateTestKeys();
  const testDb = shared?.database ?? (await createTestDatabase('ingress'));
  const prefix = uniquePrefix('ingress');
  const queries: string[] = [];
  const logs: string[] = [];
  const pool = new pg.Pool({ connectionString: testDb.url, max: 4 });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      queries.push(event.query.sql);
    },
  });
  const addon = shared?.addon ?? exampleAddon;
  await migrateToLatest(db, addon);
  queries.length = 0;
  const database: DatabaseHandle = {
    db,
    kind: 'postgres',
    location: testDb.name,
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => db.destroy(),
  };
  const config = ingressEnv.parse({
    PORT: '0',
    INGRESS_OPS_PORT: '0',
    REDIS_URL: testRedisUrl(),
    DATABASE_URL: testDb.url,
    BULLMQ_PREFIX: prefix,
    CLOCKIFY_PUBLIC_KEY: keys.publicKeyPem,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'debug',
    ...env,
  });
  const logger = createLogger(
    { name: 'ingress-test', level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  let ingress: RunningIngress;
  try {
    ingress = await startIngress({ config, logger, database, addon });
  } catch (err) {
    await db.destroy().catch(() => undefined);
    if (!shared?.database) await testDb.drop();
    throw err;
  }
  const sign = (
    kind: 'webhook' | 'lifecycle' | 'installation' | 'user',
    claims: { workspaceId?: string; addonId?: string },
    extra?: Record<string, unknown>,
  ) =>
    signAddonToken({
      kind,
      privateKey: keys.privateKey,
      addonKey: ingress.context.manifest.key,
      ...claims,
      ...(kind === 'installation' || kind === 'user'
        ? {
            userId: 'u-owner',
            environment: { backendUrl: 'https://api.clockify.me/api', reportsUrl: 'https://reports.api.clockify.me' },
          }
        : {}),
      ...(extra ? { claims: extra } : {}),
    });
  return {
    url: ingress.url,
    port: ingress.port,
    opsUrl: ingress.opsUrl,
    ingress,
    config,
    keys,
    prefix,
    queues: ingress.context.queues,
    queries,
    logs,
    db,
    webhookToken: (workspaceId, addonId = 'addon-1') => sign('webhook', { workspaceId, addonId }),
    lifecycleToken: (claims = {}) => sign('lifecycle', claims),
    installationToken: (workspaceId, addonId) => sign('installation', { workspaceId, addonId }),
    userToken: (workspaceId, addonId, claims) => sign('user', { workspaceId, addonId }, claims),
    async close() {
      await ingress.shutdown.shutdown().catch(() => undefined);
      await db.destroy().catch(() => undefined);
      await deleteRedisPrefix(config.REDIS_URL, prefix).catch(() => undefined);
      if (!shared?.database) await testDb.drop();
    },
  };
}

export function sha256(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

/** The delivery key the design defines: SHA-256 over (workspaceId, event, token hash, raw body). */
export function deliveryKeyOf(workspaceId: string, event: string, token: string, raw: string | Buffer): string {
  return createHash('sha256')
    .update(workspaceId)
    .update('\0')
    .update(event)
    .update('\0')
    .update(sha256(token))
    .update('\0')
    .update(raw)
    .digest('hex');
}

export interface WebhookRequest {
  readonly event?: string;
  /** Route segment; defaults to the event's (`NEW_TAG` → `new-tag`). */
  readonly route?: string;
  readonly token?: string | undefined;
  /** A string is sent as is (raw bytes matter for the delivery key); objects are JSON-encoded. */
  readonly body?: string | Buffer | Record<string, unknown> | unknown[];
  readonly headers?: Record<string, string>;
  readonly method?: string;
}

/** POSTs a webhook the way Clockify does; headers can be overridden or removed (value ''). */
export async function sendWebhook(t: TestIngress, req: WebhookRequest): Promise<Response> {
  const event = req.event ?? 'NEW_TAG';
  const route = req.route ?? event.toLowerCase().replaceAll('_', '-');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'clockify-webhook-event-type': event,
    ...(req.token !== undefined ? { 'clockify-signature': req.token } : {}),
    ...req.headers,
  };
  for (const [k, v] of Object.entries(headers)) if (v === '\u0000remove') delete headers[k];
  const body =
    req.body === undefined
      ? undefined
      : typeof req.body === 'string' || Buffer.isBuffer(req.body)
        ? req.body
        : JSON.stringify(req.body);
  return fetch(`${t.url}/webhooks/${route}`, {
    method: req.method ?? 'POST',
    headers,
    ...(body !== undefined ? { body } : {}),
  });
}

/** Marks a default header of {@link sendWebhook} to be left out. */
export const REMOVE = '\u0000remove';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly requestId: string };
}

/** Asserts the error shape every route answers with, and returns it. */
export async function expectError(res: Response, status: number, code?: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, `status of ${text}`).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  if (code !== undefined) expect(body.error.code).toBe(code);
  return body;
}

/** Every job of a queue, whatever its state. */
export async function allJobs(queue: Queue): Promise<Job[]> {
  return queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children']);
}

/** Jobs in every queue, by queue key. */
export async function jobCounts(queues: Queues): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [key, queue] of Object.entries(queues)) out[key] = (await allJobs(queue)).length;
  return out;
}

export const NO_JOBS = { lifecycle: 0, webhooks: 0, bootstrap: 0, maintenance: 0 };

/**
 * Everything stored under a key prefix, as text: strings, hash fields and values, list, set and
 * sorted-set members. Used to prove a plaintext secret is nowhere in Redis.
 */
export async function redisContents(url: string, prefix: string): Promise<string> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const parts: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        parts.push(key);
        if (type === 'string') parts.push((await redis.get(key)) ?? '');
        else if (type === 'hash') parts.push(...Object.entries(await redis.hgetall(key)).flat());
        else if (type === 'list') parts.push(...(await redis.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(...(await redis.smembers(key)));
        else if (type === 'zset') parts.push(...(await redis.zrange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return parts.join('\n');
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Parses the first HTTP/1.1 response in `data` once it is complete (Content-Length bodies). */
export function parseRawResponse(data: string): RawResponse | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = data.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = data.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let rest = body;
    let decoded = '';
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd === -1) return undefined;
      const size = parseInt(rest.slice(0, lineEnd), 16);
      if (size === 0) return rest.includes('\r\n\r\n') ? { status, headers, body: decoded } : undefined;
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      decoded += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
  }
  const length = Number(headers['content-length'] ?? 0);
  if (Buffer.byteLength(body) < length) return undefined;
  return { status, headers, body: body.slice(0, length) };
}

/** A raw TCP connection to the ingress, for requests fetch will not send (chunked abuse, pipelining). */
export class RawConnection {
  readonly socket: net.Socket;
  data = '';
  closed = false;
  writeError: Error | undefined;
  private readonly closedPromise: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.data += d;
    });
    this.socket.on('error', (err) => {
      this.writeError = err;
    });
    this.closedPromise = new Promise((resolve) =>
      this.socket.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.readyState === 'open') return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  /** Writes and waits for the kernel to take it; false once the connection is gone. */
  write(chunk: string | Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed || this.writeError) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.socket.write(chunk, (err) => resolve(!err));
    });
  }

  response(): RawResponse | undefined {
    return parseRawResponse(this.data);
  }

  /** Resolves when the server closed the connection, or rejects after `ms`. */
  async waitClosed(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A webhook body unique to this call (delivery keys differ). */
export function uniqueBody(workspaceId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: randomUUID(), name: `tag ${randomUUID()}`, workspaceId, archived: false, ...extra };
}

export function basicAuthHeader(username: string = ADMIN.username, password: string = ADMIN.password): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
