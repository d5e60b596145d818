import { exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import type * as Jose from 'jose';
import { Metrics } from '@cap/observability';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenVerificationError } from './errors.js';
import { signAddonToken, USER_TOKEN_LIFETIME_SECONDS } from './sign.js';
import { TokenVerifier } from './verifier.js';

// Every RSA verification goes through jose's compactVerify; counting its calls shows whether a
// verification did RSA work or was answered from the cache.
const signatureChecks = vi.hoisted(() => ({ count: 0 }));
vi.mock('jose', async (importOriginal) => {
  const actual = await importOriginal<typeof Jose>();
  return {
    ...actual,
    compactVerify: (...args: Parameters<typeof actual.compactVerify>) => {
      signatureChecks.count++;
      return actual.compactVerify(...args);
    },
  };
});

const ADDON_KEY = 'cache-addon';
const WORKSPACE_ID = 'ws-1';
const ADDON_ID = 'addon-1';

let privateKey: CryptoKey;
let publicKeyPem: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  publicKeyPem = await exportSPKI(pair.publicKey);
});

beforeEach(() => {
  signatureChecks.count = 0;
});

const webhookToken = (workspaceId = WORKSPACE_ID) =>
  signAddonToken({ kind: 'webhook', privateKey, addonKey: ADDON_KEY, workspaceId, addonId: ADDON_ID });

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof TokenVerificationError) return err.reason;
  throw new Error(`expected a TokenVerificationError, got ${String(err)}`);
}

describe('verified-token cache', () => {
  it('verifies a repeated webhook token once; later deliveries do no signature work', async () => {
    const metrics = new Metrics({ app: 'test', defaultMetrics: false });
    const v = await TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem, metrics });
    const token = await webhookToken();
    const first = await v.verify(token, 'webhook', { workspaceId: WORKSPACE_ID, addonId: ADDON_ID });
    expect(signatureChecks.count).toBe(1);
    for (let i = 0; i < 5; i++) {
      const again = await v.verify(token, 'webhook', { workspaceId: WORKSPACE_ID, addonId: ADDON_ID });
      expect(again).toEqual(first);
    }
    expect(signatureChecks.count).toBe(1);
    expect((await metrics.render()).body).toContain('clockify_token_cache_hits_total{kind="webhook",app="test"} 5');
  });

  it('checks a token shared by concurrent requests once', async () => {
    const v = await TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem });
    const token = await webhookToken();
    const results = await Promise.all(Array.from({ length: 20 }, () => v.verify(token, 'webhook')));
    expect(results.every((r) => r.verified)).toBe(true);
    expect(signatureChecks.count).toBe(1);
  });

  it('still runs the per-call checks on a cached token, without RSA work', async () => {
    const v = await TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem });
    const token = await webhookToken();
    await v.verify(token, 'webhook');
    expect(await reasonOf(v.verify(token, 'webhook', { workspaceId: 'ws-2' }))).toBe('workspace_mismatch');
    expect(await reasonOf(v.verify(token, 'webhook', { addonId: 'addon-2' }))).toBe('addon_mismatch');
    expect(await reasonOf(v.verify(token, 'user'))).toBe('wrong_kind'); // a webhook token is no user token
    await expect(v.verify(token, 'lifecycle', { workspaceId: WORKSPACE_ID })).resolves.toMatchObject({
      verified: true,
    });
    expect(signatureChecks.count).toBe(1);
  });

  it('does not serve an entry past its exp', async () => {
    let now = Date.now();
    const v = await TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem, now: () => now });
    const token = await signAddonToken({
      kind: 'user',
      privateKey,
      addonKey: ADDON_KEY,
      workspaceId: WORKSPACE_ID,
      addonId: ADDON_ID,
      issuedAt: Math.floor(now / 1000),
    });
    await v.verify(token, 'user');
    await v.verify(token, 'user');
    expect(signatureChecks.count).toBe(1);

    now += (USER_TOKEN_LIFETIME_SECONDS + 5) * 1000; // past exp, inside the 30 s tolerance
    await expect(v.verify(token, 'user')).resolves.toMatchObject({ verified: true });
    expect(signatureChecks.count).toBe(2); // re-verified, not served from the cache

    now += 60_000;
    expect(await reasonOf(v.verify(token, 'user'))).toBe('expired');
    expect(signatureChecks.count).toBe(3);
  });

  it('stays bounded: the least recently used token is evicted and verified again', async () => {
    const v = await TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem, cacheSize: 2 });
    const [a, b, c] = await Promise.all([webhookToken('ws-a'), webhookToken('ws-b'), webhookToken('ws-c')]);
    await v.verify(a, 'webhook');
    await v.verify(b, 'webhook');
    await v.verify(a, 'webhook'); // a is now the most recently used
    await v.verify(c, 'webhook'); // evicts b
    expect(signatureChecks.count).toBe(3);
    await v.verify(a, 'webhook');
    await v.verify(c, 'webhook');
    expect(signatureChecks.count).toBe(3);
    await v.verify(b, 'webhook');
    expect(signatureChecks.count).toBe(4);
  });

  it('never caches a rejected token', async () => {
    const v = await TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem });
    const stranger = await generateKeyPair('RS256');
    const forged = await signAddonToken({
      kind: 'webhook',
      privateKey: stranger.privateKey,
      addonKey: ADDON_KEY,
      workspaceId: WORKSPACE_ID,
      addonId: ADDON_ID,
    });
    expect(await reasonOf(v.verify(forged, 'webhook'))).toBe('bad_signature');
    expect(await reasonOf(v.verify(forged, 'webhook'))).toBe('bad_signature');
    expect(signatureChecks.count).toBe(2);
  });

  it('refuses hostile shapes before any signature work', async () => {
    const v = await TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem });
    const token = await webhookToken();
    const [h, p, s] = token.split('.') as [string, string, string];
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    const hs = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${p}.${s}`;
    expect(await reasonOf(v.verify(none, 'webhook'))).toBe('unsupported_alg');
    expect(await reasonOf(v.verify(hs, 'webhook'))).toBe('unsupported_alg');
    expect(await reasonOf(v.verify(`${h}.${p}.${s}.${s}`, 'webhook'))).toBe('malformed');
    expect(await reasonOf(v.verify(`${h}.${p}.`, 'webhook'))).toBe('bad_signature');
    expect(signatureChecks.count).toBe(0);
  });
});
