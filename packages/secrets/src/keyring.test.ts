import { fork } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEncryptionKey } from './dev-key.js';
import { DecryptionError, Keyring, TOKEN_COLUMNS, keyIdOf, tokenHash } from './keyring.js';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);

const place = { workspaceId: 'ws-1', addonId: 'addon-1', column: TOKEN_COLUMNS.installationToken };

/** A v1 ciphertext as the keyring wrote them before AAD bound the place (key id only). */
function legacyV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const keyId = keyIdOf(key);
  cipher.setAAD(Buffer.from(keyId));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `enc:v1:${keyId}:${iv.toString('base64url')}:${body.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}`;
}

describe('Keyring', () => {
  it('round-trips and never leaves the plaintext visible', () => {
    const ring = new Keyring(k1);
    const ct = ring.encrypt('installation-token-value', place);
    expect(ct).toMatch(/^enc:v2:[A-Za-z0-9_-]{8}:/);
    expect(ct).not.toContain('installation-token-value');
    expect(ring.decrypt(ct, place)).toBe('installation-token-value');
    expect(ring.encrypt('x', place)).not.toBe(ring.encrypt('x', place));
  });

  it('binds a ciphertext to its workspace, installation and column: moved elsewhere, it does not decrypt', () => {
    const ring = new Keyring(k1);
    const ct = ring.encrypt('t', place);
    for (const elsewhere of [
      { ...place, workspaceId: 'ws-2' },
      { ...place, addonId: 'addon-2' },
      { ...place, column: TOKEN_COLUMNS.webhookToken('NEW_TAG') },
    ]) {
      expect(() => ring.decrypt(ct, elsewhere)).toThrow(DecryptionError);
    }
    // A webhook token is bound to its event too.
    const hook = ring.encrypt('w', { ...place, column: TOKEN_COLUMNS.webhookToken('NEW_TAG') });
    expect(() => ring.decrypt(hook, { ...place, column: TOKEN_COLUMNS.webhookToken('TAG_UPDATED') })).toThrow(
      DecryptionError,
    );
  });

  it('carries the key id so a rotated keyring still decrypts old values', () => {
    const old = new Keyring(k1).encrypt('t', place);
    const rotated = new Keyring(k2, [k1]);
    expect(rotated.decrypt(old, place)).toBe('t');
    expect(rotated.needsRotation(old)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt('t', place))).toBe(false);
    expect(old.split(':')[2]).toBe(keyIdOf(k1));
    expect(Keyring.keyIdOf(old)).toBe(keyIdOf(k1));
  });

  it('still decrypts a v1 ciphertext (no place bound) and marks it for rotation', () => {
    const v1 = legacyV1(k1, 'legacy');
    const ring = new Keyring(k1);
    expect(ring.decrypt(v1, place)).toBe('legacy');
    expect(ring.needsRotation(v1)).toBe(true);
    expect(Keyring.isCiphertext(v1)).toBe(true);
  });

  it('refuses an unknown key, a tampered body and a relabelled key id', () => {
    const ct = new Keyring(k1).encrypt('t', place);
    expect(() => new Keyring(k2).decrypt(ct, place)).toThrow(/unknown key id/);
    const parts = ct.split(':');
    const body = Buffer.from(parts[4]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[4] = body.toString('base64url');
    expect(() => new Keyring(k1).decrypt(parts.join(':'), place)).toThrow(DecryptionError);
    const relabelled = ct.split(':');
    relabelled[2] = keyIdOf(k2);
    expect(() => new Keyring(k1, [k2]).decrypt(relabelled.join(':'), place)).toThrow(DecryptionError);
    expect(() => new Keyring(k1).decrypt('plain', place)).toThrow(/not a ciphertext/);
  });

  it('hashes tokens with sha-256', () => {
    expect(tokenHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('resolveEncryptionKey', () => {
  it('prefers the configured key', () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(resolveEncryptionKey({ configured: key, dataDir: '/nonexistent' })).toEqual({ key, source: 'environment' });
  });

  it('generates once and then reads the same key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cap-key-'));
    const a = resolveEncryptionKey({ configured: undefined, dataDir: dir });
    const b = resolveEncryptionKey({ configured: undefined, dataDir: dir });
    expect(a.source).toBe('generated');
    expect(b).toMatchObject({ key: a.key, source: 'data-dir' });
    expect(readFileSync(join(dir, 'token-encryption.key'), 'utf8').trim()).toBe(a.key);
  });

  it('makes concurrent starts agree on one key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cap-key-race-'));
    const script = join(dir, 'resolve.mjs');
    const modulePath = new URL('./dev-key.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `const { resolveEncryptionKey } = await import(${JSON.stringify(modulePath)});\n` +
        `process.send(resolveEncryptionKey({ configured: undefined, dataDir: ${JSON.stringify(dir)} }).key);\n`,
    );
    const keys = await Promise.all(
      Array.from({ length: 6 }, () => {
        return new Promise<string>((resolve, reject) => {
          const child = fork(script, { execArgv: ['--import', 'tsx'], stdio: 'pipe' });
          child.on('message', (m) => resolve(String(m)));
          child.on('error', reject);
          child.on('exit', (code) => code !== 0 && reject(new Error(`exit ${code}`)));
        });
      }),
    );
    expect(new Set(keys).size).toBe(1);
  });
});
