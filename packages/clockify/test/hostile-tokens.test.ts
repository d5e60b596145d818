import { generateKeyPair, exportSPKI, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostileTokenCorpus, type HostileTokenCase } from '@cap/testing';
import { TokenVerificationError, TokenVerifier, signAddonToken } from '../src/index.js';

const ADDON_KEY = 'corpus-addon';
const WORKSPACE_ID = '68adfddad138cb5d24c63b22';
const ADDON_ID = '68adfe0ed138cb5d24c63b3a';

let privateKey: CryptoKey;
let publicKeyPem: string;
let corpus: HostileTokenCase[];

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  publicKeyPem = await exportSPKI(pair.publicKey);
  corpus = await hostileTokenCorpus({
    privateKey,
    publicKeyPem,
    addonKey: ADDON_KEY,
    workspaceId: WORKSPACE_ID,
    addonId: ADDON_ID,
  });
});

function verifier(cacheSize?: number): Promise<TokenVerifier> {
  return TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem, cacheSize });
}

/** Every 12-character window of the token: long enough to be a leak, short enough to catch one. */
function leakedPart(message: string, token: string): string | undefined {
  if (token !== '' && message.includes(token)) return token;
  for (const segment of token.split('.')) if (segment.length >= 4 && message.includes(segment)) return segment;
  for (let i = 0; i + 12 <= token.length; i++) {
    const window = token.slice(i, i + 12);
    if (message.includes(window)) return window;
  }
  return undefined;
}

async function rejection(v: TokenVerifier, c: HostileTokenCase): Promise<TokenVerificationError> {
  const err: unknown = await v.verify(c.token, c.kind, c.expect).then(
    () => new Error(`accepted hostile token: ${c.name}`),
    (e: unknown) => e,
  );
  if (!(err instanceof TokenVerificationError)) throw err;
  return err;
}

describe('hostile token corpus', () => {
  it('has at least 25 distinctly named cases covering the required attacks', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(25);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
    const names = corpus.map((c) => c.name).join('\n');
    for (const required of [
      'alg none',
      'HS256 keyed with the public key PEM',
      'RS256 signed by another RSA key',
      'RS512',
      'PS256',
      'ES256',
      'expired',
      'nbf',
      'wrong iss',
      'wrong sub',
      'wrong type',
      'missing type',
      'webhook token without workspaceId',
      'webhook token without addonId',
      'user token without exp',
      'another workspace',
      'another installation',
      'truncated',
      'four segments',
      'five segments',
      'empty string',
      'bad base64 in header',
      'bad base64 in payload',
      'bad base64 in signature',
      'header not JSON',
      'payload is a JSON array',
      'payload is a JSON number',
      'header larger than 8 KiB',
      'embedded jwk of the right key',
      'jku',
      'x5u',
      'x5c',
      'crit',
      'b64 false',
      'longer than 16 KiB',
      'space inside',
      'newline inside',
      'signature stripped',
    ]) {
      expect(names, required).toContain(required);
    }
  });

  it('every case is rejected with its stated reason and status', async () => {
    const v = await verifier();
    const outcomes = [];
    for (const c of corpus) {
      const err = await rejection(v, c);
      outcomes.push({ name: c.name, reason: err.reason, status: err.status });
    }
    expect(outcomes).toEqual(
      corpus.map((c) => ({
        name: c.name,
        reason: c.reason,
        status: c.reason === 'workspace_mismatch' || c.reason === 'addon_mismatch' ? 403 : 401,
      })),
    );
  });

  it('no error message contains the token or any part of it', async () => {
    const v = await verifier();
    for (const c of corpus) {
      const err = await rejection(v, c);
      expect(leakedPart(err.message, c.token), `${c.name}: "${err.message}"`).toBeUndefined();
      expect(leakedPart(JSON.stringify(err), c.token), c.name).toBeUndefined();
      expect(err.message.length, c.name).toBeLessThan(200);
    }
  });

  it('gives the same verdicts when genuine tokens are served from the cache, and with the cache off', async () => {
    const cached = await verifier();
    const uncached = await verifier(0);
    // Prime the cache with the genuine tokens the mismatch cases reuse.
    for (const c of corpus.filter((x) => x.reason.endsWith('_mismatch'))) await cached.verify(c.token, c.kind);
    for (const c of corpus) {
      expect((await rejection(cached, c)).reason, c.name).toBe(c.reason);
      expect((await rejection(uncached, c)).reason, c.name).toBe(c.reason);
    }
  });

  it('is built so a correct token from the same inputs verifies (the corpus tests checks, not its own bugs)', async () => {
    const v = await verifier();
    const token = await signAddonToken({
      kind: 'webhook',
      privateKey,
      addonKey: ADDON_KEY,
      workspaceId: WORKSPACE_ID,
      addonId: ADDON_ID,
    });
    await expect(v.verify(token, 'webhook', { workspaceId: WORKSPACE_ID, addonId: ADDON_ID })).resolves.toMatchObject({
      verified: true,
    });
  });
});
