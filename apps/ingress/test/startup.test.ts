import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredAddon } from '@cap/addon';
import { addon } from '@cap/workspace-mirror';
import { validateManifest, type Manifest } from '@cap/clockify';
import { ConfigError } from '@cap/config';
import { createLogger } from '@cap/observability';
import { StartupError } from '@cap/app-process';
import {
  createTestDatabase,
  deleteRedisPrefix,
  startAppProcess,
  startOwnRedis,
  testRedisUrl,
  uniquePrefix,
  type OwnRedis,
  type TestDatabase,
} from '@cap/testing';
import { distEntry } from '../../../test/dist.js';
import { ingressEnv, startIngress, type IngressConfig, type RunningIngress } from '../src/index.js';
import { generateTestKeys, startTestIngress, type TestIngress } from './helpers.js';

/**
 * What the ingress refuses to start with, in process (startIngress, ingressEnv) and as the
 * shipped process (apps/ingress/dist/main.js), and the manifest schema version it can serve.
 */

const prefix = uniquePrefix('startup');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('startup');
});
afterAll(async () => {
  await deleteRedisPrefix(testRedisUrl(), prefix);
  await db?.drop();
});

/** A valid environment; each test breaks one thing. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    INGRESS_OPS_PORT: '0',
    REDIS_URL: testRedisUrl(),
    DATABASE_URL: db.url,
    BULLMQ_PREFIX: prefix,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CLOCKIFY_PUBLIC_KEY: generateTestKeys().publicKeyPem,
    LOG_LEVEL: 'info',
    ...extra,
  };
}

function quietLogger(lines: string[] = []) {
  return createLogger(
    { name: 'ingress-startup-test', level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
}

/**
 * startIngress that is expected to fail; should it start after all, it is shut down again so the
 * failing test leaves no server behind.
 */
async function startFailure(config: IngressConfig, definition?: RegisteredAddon): Promise<unknown> {
  let running: RunningIngress | undefined;
  try {
    running = await startIngress({ config, logger: quietLogger(), addon: definition ?? addon });
  } catch (err) {
    return err;
  } finally {
    await running?.shutdown.shutdown().catch(() => undefined);
  }
  throw new Error('startIngress started although it should have refused');
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('no ConfigError was thrown');
}

describe('NODE_ENV=production with REQUIRE_SIGNATURE_VERIFICATION=false', () => {
  const production = { NODE_ENV: 'production', REQUIRE_SIGNATURE_VERIFICATION: 'false' };

  it('is refused by the configuration, naming the variable', () => {
    const err = configError(() => ingressEnv.parse(env(production)));
    expect(err.issues).toEqual([
      { variable: 'REQUIRE_SIGNATURE_VERIFICATION', message: 'cannot be false when NODE_ENV=production' },
    ]);
    expect(err.message).toContain('REQUIRE_SIGNATURE_VERIFICATION: cannot be false when NODE_ENV=production');
    // Either alone is fine.
    expect(ingressEnv.parse(env({ NODE_ENV: 'production' })).REQUIRE_SIGNATURE_VERIFICATION).toBe(true);
    expect(ingressEnv.parse(env({ REQUIRE_SIGNATURE_VERIFICATION: 'false' })).REQUIRE_SIGNATURE_VERIFICATION).toBe(
      false,
    );
  });

  it('is refused by startIngress too when handed such a configuration directly', async () => {
    const config: IngressConfig = {
      ...ingressEnv.parse(env()),
      NODE_ENV: 'production',
      REQUIRE_SIGNATURE_VERIFICATION: false,
    };
    const err = await startFailure(config);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(
      /^REQUIRE_SIGNATURE_VERIFICATION=false is refused: token signature verification cannot be disabled in production/,
    );
  });

  it('makes the ingress process exit 1 before it listens, naming the variable', async () => {
    const p = startAppProcess(distEntry('ingress'), env(production));
    expect(await p.exited).toBe(1);
    const output = p.output.join('\n');
    expect(output).toContain('Invalid configuration for ingress');
    expect(output).toContain('REQUIRE_SIGNATURE_VERIFICATION: cannot be false when NODE_ENV=production');
    expect(output).not.toContain('ingress ready');
  });
});

describe('an invalid manifest stops start-up with the schema’s error paths', () => {
  it('from the add-on definition (startIngress with a custom definition)', async () => {
    const [sidebar] = addon.components ?? [];
    expect(sidebar).toBeDefined();
    // Both pass the add-on lint; only the official schema knows these enums.
    const broken = {
      ...addon,
      minimalSubscriptionPlan: 'GOLD',
      components: [{ ...sidebar!, accessLevel: 'EVERYBODY' }],
    } as unknown as RegisteredAddon;
    const err = await startFailure(ingressEnv.parse(env()), broken);
    expect(err).toBeInstanceOf(StartupError);
    const message = (err as Error).message;
    expect(message).toMatch(/^invalid manifest: Manifest does not match schema 1\.6 \(2 errors\)/);
    expect(message).toMatch(/\/minimalSubscriptionPlan: must be equal to one of the allowed values \(got "GOLD"\)/);
    expect(message).toMatch(
      /\/components\/0\/accessLevel: must be equal to one of the allowed values \(got "EVERYBODY"\)/,
    );
  });

  it('from the environment: a BASE_URL the configuration accepts but the schema does not', async () => {
    // new URL() reads the scheme case-insensitively; the schema's baseUrl pattern is ^https?://.
    const config = ingressEnv.parse(env({ BASE_URL: 'HTTPS://mirror.example.test' }));
    const err = await startFailure(config);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toContain(
      '/baseUrl: must match pattern "^https?://" (got "HTTPS://mirror.example.test")',
    );
  });

  it('as the ingress process: exit 1 with the error path in the log', async () => {
    const p = startAppProcess(distEntry('ingress'), env({ BASE_URL: 'HTTPS://mirror.example.test' }));
    expect(await p.exited).toBe(1);
    const output = p.output.join('\n');
    expect(output).toContain('invalid manifest: Manifest does not match schema 1.6');
    expect(output).toContain('/baseUrl: must match pattern');
    expect(output).not.toContain('ingress ready');
  });
});

describe('MANIFEST_SCHEMA_VERSION', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({ MANIFEST_SCHEMA_VERSION: '1.5', BASE_URL: 'https://mirror.example.test' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('1.5 serves a manifest of schema 1.5, valid against that schema', async () => {
    const res = await fetch(`${t.url}/manifest`);
    expect(res.status).toBe(200);
    const manifest = (await res.json()) as Manifest;
    expect(manifest.schemaVersion).toBe('1.5');
    expect(validateManifest(manifest, '1.5')).toEqual({ valid: true, errors: [] });
    expect(manifest.baseUrl).toBe('https://mirror.example.test');
    expect(new Set(manifest.webhooks.map((w) => w.event))).toEqual(new Set(addon.events));
    const ready = t.logs
      .map((l) => JSON.parse(l) as { msg: string; schemaVersion?: string })
      .find((l) => l.msg === 'ingress ready');
    expect(ready?.schemaVersion).toBe('1.5');
  });

  it('other versions are refused by the configuration, naming the variable', () => {
    for (const version of ['1.4', '1.7', '2']) {
      const err = configError(() => ingressEnv.parse(env({ MANIFEST_SCHEMA_VERSION: version })));
      expect(err.issues.map((i) => i.variable)).toEqual(['MANIFEST_SCHEMA_VERSION']);
    }
  });
});

describe('INGRESS_OPS_PORT', () => {
  it('must differ from PORT (0 for both is fine: each picks a free port)', () => {
    const err = configError(() => ingressEnv.parse(env({ PORT: '9180', INGRESS_OPS_PORT: '9180' })));
    expect(err.issues.map((i) => i.variable)).toEqual(['INGRESS_OPS_PORT']);
    expect(ingressEnv.parse(env({ PORT: '0', INGRESS_OPS_PORT: '0' })).INGRESS_OPS_PORT).toBe(0);
    expect(ingressEnv.parse({}).INGRESS_OPS_PORT).toBe(8082);
  });

  it('a taken ops port stops the start with a message naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const err = await startFailure(ingressEnv.parse(env({ INGRESS_OPS_PORT: String(taken) })));
      expect(err).toBeInstanceOf(StartupError);
      expect((err as StartupError).message).toContain(`INGRESS_OPS_PORT ${taken}`);
    } finally {
      blocker.close();
    }
  });
});

describe('a Redis that evicts keys', () => {
  let evicting: OwnRedis;
  beforeAll(async () => {
    evicting = await startOwnRedis({ maxmemoryPolicy: 'allkeys-lru' });
  });
  afterAll(async () => {
    await evicting?.close();
  });

  it('is refused at a production start (queued jobs could vanish), and only warned about elsewhere', async () => {
    const refused = startAppProcess(distEntry('ingress'), env({ NODE_ENV: 'production', REDIS_URL: evicting.url }));
    expect(await refused.exited).toBe(1);
    const output = refused.output.join('\n');
    expect(output).toContain('Redis maxmemory-policy is allkeys-lru, which evicts keys');
    expect(output).not.toContain('ingress ready');

    const lines: string[] = [];
    const running = await startIngress({
      config: ingressEnv.parse(env({ REDIS_URL: evicting.url })),
      logger: quietLogger(lines),
      addon,
    });
    try {
      expect(lines.join('')).toContain('Redis maxmemory-policy is allkeys-lru');
    } finally {
      await running.shutdown.shutdown();
    }
  });
});
