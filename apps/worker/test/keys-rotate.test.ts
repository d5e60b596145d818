import { createCipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '@cap/db';
import { Keyring, TOKEN_COLUMNS, keyIdOf } from '@cap/secrets';
import { createTestDatabase, startAppProcess, testRedisUrl, type TestDatabase } from '@cap/testing';
import { distEntry } from '../../../test/dist.js';
import { insertBareInstallation } from './helpers.js';

/** `npm run cli -- keys rotate` with a three-key history: k1 (oldest), k2, k3 (current). */

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const k3 = randomBytes(32);
const b64 = (k: Buffer) => k.toString('base64');

let testDb: TestDatabase;
let h: DatabaseHandle;

/** A v1 ciphertext as written before ciphertexts were bound to their row (key id as AAD only). */
function legacyV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(keyIdOf(key)));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `enc:v1:${keyIdOf(key)}:${iv.toString('base64url')}:${body.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}`;
}

const installationPlace = (ws: string) => ({
  workspaceId: ws,
  addonId: 'addon-k',
  column: TOKEN_COLUMNS.installationToken,
});
const webhookPlace = (ws: string, event: string) => ({
  workspaceId: ws,
  addonId: 'addon-k',
  column: TOKEN_COLUMNS.webhookToken(event),
});

/** Rows under every key and format; the plaintext of each is its place, so it can be checked. */
async function seed(prefix: string): Promise<number> {
  const encryptions = [
    (p: string) => legacyV1(k1, p),
    (p: string, ws: string) => new Keyring(k1).encrypt(p, installationPlace(ws)),
    (p: string, ws: string) => new Keyring(k2).encrypt(p, installationPlace(ws)),
    (p: string, ws: string) => new Keyring(k3).encrypt(p, installationPlace(ws)),
  ];
  let rows = 0;
  for (let i = 0; i < 8; i++) {
    const ws = `${prefix}-${i}`;
    await insertBareInstallation(h.db, ws, 'addon-k', encryptions[i % 4]!(`installation ${ws}`, ws));
    rows++;
    for (const [j, event] of ['NEW_TAG', 'TAG_UPDATED'].entries()) {
      const keyIndex = (i + j) % 3;
      const key = [k1, k2, k3][keyIndex]!;
      const plaintext = `webhook ${ws} ${event}`;
      await h.db
        .insertInto('installation_webhooks')
        .values({
          workspace_id: ws,
          addon_id: 'addon-k',
          event,
          path: `/webhooks/${event}`,
          token_enc:
            keyIndex === 0 ? legacyV1(key, plaintext) : new Keyring(key).encrypt(plaintext, webhookPlace(ws, event)),
          token_hash: 'h',
        })
        .execute();
      rows++;
    }
  }
  return rows;
}

async function rotate(previous: Buffer[], ...args: string[]): Promise<{ code: number; out: string }> {
  const p = startAppProcess(
    distEntry('worker', 'cli/index.js'),
    {
      DATABASE_URL: testDb.url,
      REDIS_URL: testRedisUrl(),
      TOKEN_ENCRYPTION_KEY: b64(k3),
      TOKEN_ENCRYPTION_PREVIOUS_KEYS: previous.map(b64).join(','),
      LOG_LEVEL: 'warn',
    },
    ['keys', 'rotate', ...args],
  );
  return { code: await p.exited, out: p.output.join('\n') };
}

async function everyCiphertext(): Promise<{ ws: string; event: string | null; ct: string }[]> {
  const inst = await h.db.selectFrom('installations').select(['workspace_id', 'auth_token_enc']).execute();
  const hooks = await h.db.selectFrom('installation_webhooks').select(['workspace_id', 'event', 'token_enc']).execute();
  return [
    ...inst.map((r) => ({ ws: r.workspace_id, event: null, ct: r.auth_token_enc! })),
    ...hooks.map((r) => ({ ws: r.workspace_id, event: r.event, ct: r.token_enc })),
  ];
}

beforeAll(async () => {
  testDb = await createTestDatabase('keys');
  h = await openDatabase({ url: testDb.url, dataDir: '/unused' });
  await migrateToLatest(h.db);
});
afterAll(async () => {
  await h?.close();
  await testDb?.drop();
});

describe('npm run cli -- keys rotate', () => {
  it('a dry run changes nothing; a key missing from the history fails those rows, names the key, rotates the rest', async () => {
    const rows = await seed('ws-partial');
    const before = await everyCiphertext();
    const dry = await rotate([k1, k2], '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/would rotate \d+, already current \d+/);
    expect(await everyCiphertext()).toEqual(before);

    const partial = await rotate([k2]);
    expect(partial.code).toBe(1);
    expect(partial.out).toContain(`missing keys: ${keyIdOf(k1)}`);
    expect(partial.out).not.toMatch(/installation ws-partial|webhook ws-partial/);
    const after = await everyCiphertext();
    const underK1 = after.filter((r) => Keyring.keyIdOf(r.ct) === keyIdOf(k1));
    expect(underK1.length).toBeGreaterThan(0);
    expect(after.length).toBe(rows);
    expect(after.filter((r) => Keyring.keyIdOf(r.ct) === keyIdOf(k2))).toEqual([]);
  }, 60_000);

  it('with the whole history, leaves no ciphertext under an old key or in v1, and every token still decrypts', async () => {
    const result = await rotate([k1, k2]);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/rotated \d+, already current \d+, skipped \(changed meanwhile\) 0, failed 0/);
    const ring = new Keyring(k3);
    for (const row of await everyCiphertext()) {
      expect(row.ct.startsWith(`enc:v2:${keyIdOf(k3)}:`), `${row.ws} ${row.event}`).toBe(true);
      const place = row.event === null ? installationPlace(row.ws) : webhookPlace(row.ws, row.event);
      const expected = row.event === null ? `installation ${row.ws}` : `webhook ${row.ws} ${row.event}`;
      expect(ring.decrypt(row.ct, place)).toBe(expected);
    }
    // Resumable and idempotent: a second run finds everything current.
    const again = await rotate([k1, k2]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/rotated 0, already current \d+/);
  }, 60_000);

  it('rotates forwarding rules too: both signing secrets and the header values, each still bound to its rule', async () => {
    const id = '0b6d6a3e-8f0c-4d8e-9a55-6f7a3b2c1d00';
    const at = { workspaceId: 'ws-fwd', addonId: 'addon-k' };
    const secretPlace = { ...at, column: TOKEN_COLUMNS.forwardingSecret(id) };
    const headersPlace = { ...at, column: TOKEN_COLUMNS.forwardingHeaders(id) };
    await h.db
      .insertInto('forwarding_rules')
      .values({
        id,
        ...{ workspace_id: at.workspaceId, addon_id: at.addonId },
        name: 'r',
        events: JSON.stringify(['NEW_TAG']),
        filter: null,
        transform: null,
        destination_url: 'https://hooks.example.com/x',
        header_names: JSON.stringify(['authorization']),
        headers_enc: new Keyring(k2).encrypt('{"authorization":"Bearer x"}', headersPlace),
        secret_enc: new Keyring(k1).encrypt('whsec_current', secretPlace),
        previous_secret_enc: new Keyring(k2).encrypt('whsec_previous', secretPlace),
        previous_secret_until: new Date(Date.now() + 3_600_000),
      })
      .execute();
    const result = await rotate([k1, k2]);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/rotated 3, /);
    const row = await h.db.selectFrom('forwarding_rules').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const ring = new Keyring(k3);
    for (const ct of [row.secret_enc, row.previous_secret_enc!, row.headers_enc!]) {
      expect(ct.startsWith(`enc:v2:${keyIdOf(k3)}:`)).toBe(true);
    }
    expect(ring.decrypt(row.secret_enc, secretPlace)).toBe('whsec_current');
    expect(ring.decrypt(row.previous_secret_enc!, secretPlace)).toBe('whsec_previous');
    expect(ring.decrypt(row.headers_enc!, headersPlace)).toBe('{"authorization":"Bearer x"}');
  }, 60_000);
});
