import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { Metrics } from '@cap/observability';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeySourceUnavailableError, TokenVerificationError } from './errors.js';
import { signAddonToken } from './sign.js';
import { TokenVerifier } from './verifier.js';

const ADDON_KEY = 'jwks-addon';

interface KeyPair {
  privateKey: CryptoKey;
  jwk: JWK;
}

let staticKey: { privateKey: CryptoKey; pem: string };
let rotated: KeyPair;
let current: KeyPair;

async function pair(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: await exportJWK(publicKey) };
}

beforeAll(async () => {
  const s = await generateKeyPair('RS256');
  staticKey = { privateKey: s.privateKey, pem: await exportSPKI(s.publicKey) };
  [rotated, current] = await Promise.all([pair(), pair()]);
});

/** A JWKS endpoint on port 0 that counts its requests; `respond` decides each answer. */
interface JwksServer {
  url: string;
  requests: number;
  respond: 'keys' | 'hang' | 'error';
  keys: JWK[];
}
const servers: Server[] = [];

async function startJwks(keys: JWK[]): Promise<JwksServer> {
  const state: JwksServer = { url: '', requests: 0, respond: 'keys', keys };
  const server = createServer((_req, res) => {
    state.requests++;
    if (state.respond === 'hang') return; // never answers
    if (state.respond === 'error') {
      res.writeHead(500).end('boom');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return state;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const token = (privateKey: CryptoKey, kid?: string) =>
  signAddonToken({
    kind: 'webhook',
    privateKey,
    addonKey: ADDON_KEY,
    workspaceId: 'ws',
    addonId: 'addon',
    ...(kid ? { kid } : {}),
  });

const withKid = (jwk: JWK, kid: string): JWK => ({ ...jwk, kid, alg: 'RS256', use: 'sig' });

function create(jwks: JwksServer, extra: { jwksTimeoutMs?: number; jwksCooldownMs?: number; metrics?: Metrics } = {}) {
  return TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem: staticKey.pem, jwksUrl: jwks.url, ...extra });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('unexpectedly verified'),
    (e: unknown) => e,
  );
}

describe('TokenVerifier with a JWKS', () => {
  it('verifies tokens with a kid against the JWKS and tokens without one against the static key', async () => {
    const jwks = await startJwks([withKid(current.jwk, 'k2')]);
    const v = await create(jwks);
    await expect(v.verify(await token(current.privateKey, 'k2'), 'webhook')).resolves.toMatchObject({ verified: true });
    await expect(v.verify(await token(staticKey.privateKey), 'webhook')).resolves.toMatchObject({ verified: true });
    expect(jwks.requests).toBe(1);

    // The kid decides the key: the static key's signature does not count for a kid'ed token,
    // and a JWKS key does not count for a kid-less one.
    expect(await failure(v.verify(await token(staticKey.privateKey, 'k2'), 'webhook'))).toMatchObject({
      reason: 'bad_signature',
    });
    expect(await failure(v.verify(await token(current.privateKey), 'webhook'))).toMatchObject({
      reason: 'bad_signature',
    });
  });

  it('rejects an unknown kid, refetching the JWKS at most once per cooldown', async () => {
    const jwks = await startJwks([withKid(current.jwk, 'k2')]);
    const v = await create(jwks, { jwksCooldownMs: 60_000 });
    await v.verify(await token(current.privateKey, 'k2'), 'webhook');
    expect(jwks.requests).toBe(1);
    for (const kid of ['nope-1', 'nope-2', 'nope-3']) {
      const err = await failure(v.verify(await token(current.privateKey, kid), 'webhook'));
      expect(err).toBeInstanceOf(TokenVerificationError);
      expect(err).toMatchObject({ reason: 'bad_signature', status: 401 });
    }
    expect(jwks.requests).toBe(1);
  });

  it('picks up a key published after start once the cooldown has passed', async () => {
    const jwks = await startJwks([withKid(rotated.jwk, 'k1')]);
    const v = await create(jwks, { jwksCooldownMs: 0 });
    await v.verify(await token(rotated.privateKey, 'k1'), 'webhook');
    jwks.keys = [withKid(rotated.jwk, 'k1'), withKid(current.jwk, 'k2')];
    await expect(v.verify(await token(current.privateKey, 'k2'), 'webhook')).resolves.toMatchObject({ verified: true });
    expect(jwks.requests).toBe(2);
  });

  it('tries every key that shares the kid (rotation in progress)', async () => {
    const jwks = await startJwks([withKid(rotated.jwk, 'same'), withKid(current.jwk, 'same')]);
    const v = await create(jwks);
    await expect(v.verify(await token(current.privateKey, 'same'), 'webhook')).resolves.toMatchObject({
      verified: true,
    });
    await expect(v.verify(await token(rotated.privateKey, 'same'), 'webhook')).resolves.toMatchObject({
      verified: true,
    });
    expect(await failure(v.verify(await token(staticKey.privateKey, 'same'), 'webhook'))).toMatchObject({
      reason: 'bad_signature',
    });
  });

  it('reports a JWKS that does not answer in time as unavailable (503), not as a bad token', async () => {
    const jwks = await startJwks([]);
    jwks.respond = 'hang';
    const metrics = new Metrics({ app: 'test', defaultMetrics: false });
    const v = await create(jwks, { jwksTimeoutMs: 200, metrics });
    const started = Date.now();
    const err = await failure(v.verify(await token(current.privateKey, 'k2'), 'webhook'));
    expect(err).toBeInstanceOf(KeySourceUnavailableError);
    expect(err).toMatchObject({ status: 503 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await metrics.render()).body).toContain(
      'clockify_token_verifications_total{kind="webhook",result="key_unavailable",app="test"} 1',
    );
    // Kid-less tokens do not depend on the JWKS at all.
    await expect(v.verify(await token(staticKey.privateKey), 'webhook')).resolves.toMatchObject({ verified: true });
  });

  it('reports a failing JWKS endpoint as unavailable', async () => {
    const jwks = await startJwks([]);
    jwks.respond = 'error';
    const v = await create(jwks);
    expect(await failure(v.verify(await token(current.privateKey, 'k2'), 'webhook'))).toBeInstanceOf(
      KeySourceUnavailableError,
    );
  });

  it('accepts https and loopback http JWKS URLs only', async () => {
    await expect(
      TokenVerifier.create({
        addonKey: ADDON_KEY,
        publicKeyPem: staticKey.pem,
        jwksUrl: 'https://keys.example.com/jwks.json',
      }),
    ).resolves.toBeInstanceOf(TokenVerifier);
    await expect(
      TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem: staticKey.pem, jwksUrl: 'http://[::1]:1/jwks.json' }),
    ).resolves.toBeInstanceOf(TokenVerifier);
    await expect(
      TokenVerifier.create({ addonKey: ADDON_KEY, publicKeyPem: staticKey.pem, jwksUrl: 'http://10.0.0.1/jwks.json' }),
    ).rejects.toThrow(/https/);
    await expect(
      TokenVerifier.create({
        addonKey: ADDON_KEY,
        publicKeyPem: staticKey.pem,
        jwksUrl: 'https://u:p@keys.example.com/jwks.json',
      }),
    ).rejects.toThrow(/credentials/);
  });
});
