import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { Metrics, type Logger } from '@cap/observability';
import { hostileTokenCorpus } from '@cap/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenVerificationError } from './errors.js';
import { signAddonToken, USER_TOKEN_LIFETIME_SECONDS } from './sign.js';
import { TokenVerifier, type VerifierOptions } from './verifier.js';

const ADDON_KEY = 'time-mirror';
const WORKSPACE_ID = '68adfddad138cb5d24c63b22';
const ADDON_ID = '68adfe0ed138cb5d24c63b3a';
const ENV = { backendUrl: 'https://api.clockify.me/api', reportsUrl: 'https://reports.api.clockify.me' };

let privateKey: CryptoKey;
let publicKeyPem: string;
let strangerKey: CryptoKey;

beforeAll(async () => {
  const [pair, stranger] = await Promise.all([generateKeyPair('RS256'), generateKeyPair('RS256')]);
  privateKey = pair.privateKey;
  publicKeyPem = await exportSPKI(pair.publicKey);
  strangerKey = stranger.privateKey;
});

/** Records exactly what the verifier hands its logger, before any redaction could hide a leak. */
function recordingLogger(): { logger: Logger; lines: { level: string; args: unknown[] }[] } {
  const lines: { level: string; args: unknown[] }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      void lines.push({ level, args });
  const logger: Record<string, unknown> = { level: 'trace' };
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) logger[level] = at(level);
  logger.child = () => logger;
  return { logger: logger as unknown as Logger, lines };
}

function create(opts: Partial<VerifierOptions> = {}): Promise<TokenVerifier> {
  return TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem, ...opts });
}

function sign(
  kind: 'webhook' | 'installation' | 'user' | 'lifecycle',
  extra: { issuedAt?: number; claims?: Record<string, unknown>; key?: CryptoKey } = {},
): Promise<string> {
  return signAddonToken({
    kind,
    privateKey: extra.key ?? privateKey,
    addonKey: ADDON_KEY,
    workspaceId: WORKSPACE_ID,
    addonId: ADDON_ID,
    userId: 'user-1',
    environment: ENV,
    ...(extra.issuedAt !== undefined ? { issuedAt: extra.issuedAt } : {}),
    ...(extra.claims ? { claims: extra.claims } : {}),
  });
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof TokenVerificationError) return err.reason;
  throw new Error(`expected a TokenVerificationError, got ${String(err)}`);
}

const seconds = (ms: number) => Math.floor(ms / 1000);

describe('TokenVerifier: genuine tokens', () => {
  it('verifies each kind of token Clockify sends and returns its claims and hash', async () => {
    const v = await create();
    const webhook = await sign('webhook');
    const result = await v.verify(webhook, 'webhook', { workspaceId: WORKSPACE_ID, addonId: ADDON_ID });
    expect(result.verified).toBe(true);
    expect(result.tokenHash).toBe(createHash('sha256').update(webhook).digest('hex'));
    expect(result.claims).toMatchObject({
      iss: 'clockify',
      sub: ADDON_KEY,
      type: 'addon',
      workspaceId: WORKSPACE_ID,
      addonId: ADDON_ID,
    });

    const installation = await v.verify(await sign('installation'), 'installation');
    expect(installation.claims).toMatchObject({
      user: 'user-1',
      backendUrl: ENV.backendUrl,
      reportsUrl: ENV.reportsUrl,
    });

    const user = await v.verify(await sign('user'), 'user', { workspaceId: WORKSPACE_ID });
    expect(user.claims).toMatchObject({ language: 'EN', theme: 'DEFAULT', workspaceRole: 'OWNER' });
    expect(user.claims.exp).toBe((user.claims.iat ?? 0) + USER_TOKEN_LIFETIME_SECONDS);

    const lifecycle = await v.verify(await sign('lifecycle'), 'lifecycle', {
      workspaceId: WORKSPACE_ID,
      addonId: ADDON_ID,
    });
    expect(lifecycle.claims.workspaceId).toBe(WORKSPACE_ID);
  });

  it('accepts a lifecycle token without workspace claims whatever is expected (claims are compared only when present)', async () => {
    const v = await create();
    const bare = await signAddonToken({ kind: 'lifecycle', privateKey, addonKey: ADDON_KEY });
    await expect(v.verify(bare, 'lifecycle', { workspaceId: 'any', addonId: 'any' })).resolves.toMatchObject({
      verified: true,
    });
  });

  it('never rejects an old iat: webhook tokens are reused for years', async () => {
    const v = await create();
    const fiveYearsAgo = seconds(Date.now()) - 5 * 365 * 24 * 3600;
    await expect(v.verify(await sign('webhook', { issuedAt: fiveYearsAgo }), 'webhook')).resolves.toMatchObject({
      verified: true,
    });
  });

  it('answers 403 for a genuine token of another workspace or installation, 401 otherwise', async () => {
    const v = await create();
    const token = await sign('webhook');
    const other = await v.verify(token, 'webhook', { workspaceId: 'other' }).catch((e: unknown) => e);
    expect(other).toMatchObject({ reason: 'workspace_mismatch', status: 403 });
    const otherAddon = await v.verify(token, 'webhook', { addonId: 'other' }).catch((e: unknown) => e);
    expect(otherAddon).toMatchObject({ reason: 'addon_mismatch', status: 403 });
    const forged = await v.verify(await sign('webhook', { key: strangerKey }), 'webhook').catch((e: unknown) => e);
    expect(forged).toMatchObject({ reason: 'bad_signature', status: 401 });
  });

  it('applies the clock tolerance to exp and nbf', async () => {
    let now = Date.now();
    const v = await create({ now: () => now, clockToleranceSeconds: 30 });
    const issuedAt = seconds(now) - USER_TOKEN_LIFETIME_SECONDS - 10; // expired 10 s ago
    const token = await sign('user', { issuedAt });
    await expect(v.verify(token, 'user')).resolves.toMatchObject({ verified: true });
    now += 25_000; // 35 s past exp
    expect(await reasonOf(v.verify(token, 'user'))).toBe('expired');

    const early = await sign('webhook', { claims: { nbf: seconds(now) + 20 } });
    await expect(v.verify(early, 'webhook')).resolves.toBeDefined();
    const tooEarly = await sign('webhook', { claims: { nbf: seconds(now) + 40 } });
    expect(await reasonOf(v.verify(tooEarly, 'webhook'))).toBe('not_yet_valid');
  });

  it('hands out frozen claims, so one caller cannot alter what the cache gives the next', async () => {
    const v = await create();
    const token = await sign('webhook');
    const first = await v.verify(token, 'webhook');
    expect(() => {
      (first.claims as Record<string, unknown>).workspaceId = 'hijacked';
    }).toThrow(TypeError);
    expect((await v.verify(token, 'webhook')).claims.workspaceId).toBe(WORKSPACE_ID);
  });

  it('refuses an unknown token kind as a programming error', async () => {
    const v = await create();
    await expect(v.verify(await sign('webhook'), 'admin' as never)).rejects.toThrow(TypeError);
  });

  it('accepts a kid-less RS256 token from any JWT library, not only our signer', async () => {
    const v = await create();
    const token = await new SignJWT({ type: 'addon', workspaceId: WORKSPACE_ID, addonId: ADDON_ID })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer('clockify')
      .setSubject(ADDON_KEY)
      .sign(privateKey);
    await expect(v.verify(token, 'webhook')).resolves.toMatchObject({ verified: true });
  });
});

describe('TokenVerifier: configuration', () => {
  it("warns loudly at create time when the key is not Clockify's, and not for the default key", async () => {
    const custom = recordingLogger();
    const v = await create({ logger: custom.logger });
    expect(v.keySource).toBe('pem');
    const warnings = custom.lines.filter((l) => l.level === 'warn').map((l) => l.args.join(' '));
    expect(warnings.some((w) => w.includes('NON-DEFAULT CLOCKIFY PUBLIC KEY'))).toBe(true);

    const shipped = recordingLogger();
    const d = await TokenVerifier.create({ addonKey: ADDON_KEY, logger: shipped.logger });
    expect(d.keySource).toBe('default');
    expect(shipped.lines.filter((l) => l.level === 'warn')).toEqual([]);
    // Clockify's key cannot verify a locally signed token.
    expect(await reasonOf(d.verify(await sign('webhook'), 'webhook'))).toBe('bad_signature');
  });

  it('takes the key from PEM text over a file, and from a file over the default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clockify-verifier-'));
    try {
      const file = join(dir, 'key.pem');
      writeFileSync(file, publicKeyPem);
      const token = await sign('webhook');
      const fromFile = await create({ publicKeyPem: undefined, publicKeyFile: file });
      expect(fromFile.keySource).toBe('file');
      await expect(fromFile.verify(token, 'webhook')).resolves.toMatchObject({ verified: true });

      const strangerPem = await exportSPKI((await generateKeyPair('RS256')).publicKey);
      const textWins = await create({ publicKeyPem: strangerPem, publicKeyFile: file });
      expect(textWins.keySource).toBe('pem');
      expect(await reasonOf(textWins.verify(token, 'webhook'))).toBe('bad_signature');

      const escaped = await create({ publicKeyPem: publicKeyPem.trimEnd().replace(/\n/g, '\\n') });
      await expect(escaped.verify(token, 'webhook')).resolves.toMatchObject({ verified: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to disable signature checks in production', async () => {
    await expect(create({ requireSignature: false, production: true })).rejects.toThrow(/production/);
  });

  it('with signatures disabled, still checks claims, marks results unverified and warns at most once a minute', async () => {
    let now = Date.now();
    const { logger, lines } = recordingLogger();
    const v = await create({ requireSignature: false, logger, now: () => now });
    const createWarnings = lines.filter((l) => l.level === 'warn').length;

    const foreign = await sign('webhook', { key: strangerKey });
    const result = await v.verify(foreign, 'webhook');
    expect(result.verified).toBe(false);
    expect(result.claims.workspaceId).toBe(WORKSPACE_ID);
    await v.verify(foreign, 'webhook');
    expect(
      await reasonOf(v.verify(await sign('webhook', { key: strangerKey, claims: { type: 'user' } }), 'webhook')),
    ).toBe('wrong_type');
    expect(await reasonOf(v.verify(foreign, 'webhook', { workspaceId: 'other' }))).toBe('workspace_mismatch');
    expect(lines.filter((l) => l.level === 'warn').length).toBe(createWarnings + 1);

    now += 61_000;
    await v.verify(foreign, 'webhook');
    expect(lines.filter((l) => l.level === 'warn').length).toBe(createWarnings + 2);
  });

  it('rejects options that would weaken verification', async () => {
    await expect(TokenVerifier.create({ addonKey: '', publicKeyPem })).rejects.toThrow(/add-on key/);
    await expect(create({ clockToleranceSeconds: -1 })).rejects.toThrow(RangeError);
    await expect(create({ jwksUrl: 'http://keys.example.com/jwks.json' })).rejects.toThrow(/https/);
    await expect(create({ jwksUrl: 'not a url' })).rejects.toThrow(/valid URL/);
  });
});

describe('TokenVerifier: observability', () => {
  it('counts verifications by kind and result, and cache hits', async () => {
    const metrics = new Metrics({ app: 'test', defaultMetrics: false });
    const v = await create({ metrics });
    const token = await sign('webhook');
    await v.verify(token, 'webhook');
    await v.verify(token, 'webhook');
    await v.verify(token, 'lifecycle', { workspaceId: 'other' }).catch(() => undefined);
    await v.verify('', 'user').catch(() => undefined);

    const { body } = await metrics.render();
    expect(body).toContain('clockify_token_verifications_total{kind="webhook",result="ok",app="test"} 2');
    expect(body).toContain(
      'clockify_token_verifications_total{kind="lifecycle",result="workspace_mismatch",app="test"} 1',
    );
    expect(body).toContain('clockify_token_verifications_total{kind="user",result="malformed",app="test"} 1');
    expect(body).toContain('clockify_token_cache_hits_total{kind="webhook",app="test"} 1');
    expect(body).toContain('clockify_token_cache_hits_total{kind="lifecycle",app="test"} 1');
  });

  it('never hands a token, or any part of one, to the logger', async () => {
    const { logger, lines } = recordingLogger();
    const v = await create({ logger });
    const good = await sign('webhook');
    const cases = await hostileTokenCorpus({
      privateKey,
      publicKeyPem,
      addonKey: ADDON_KEY,
      workspaceId: WORKSPACE_ID,
      addonId: ADDON_ID,
    });
    await v.verify(good, 'webhook');
    for (const c of cases) await v.verify(c.token, c.kind, c.expect).catch(() => undefined);

    const logged = lines.map((l) => JSON.stringify(l.args)).join('\n');
    expect(lines.length).toBeGreaterThan(cases.length); // every rejection was logged at debug
    for (const token of [good, ...cases.map((c) => c.token)]) {
      for (const segment of token.split('.')) {
        if (segment.length >= 12) expect(logged).not.toContain(segment);
      }
    }
  });
});
