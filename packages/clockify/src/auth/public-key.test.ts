import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CLOCKIFY_PUBLIC_KEY_FILE,
  inspectRsaPublicKey,
  isDefaultClockifyKey,
  loadPublicKeyPem,
} from './public-key.js';

const dir = mkdtempSync(join(tmpdir(), 'clockify-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rsaPem = (bits = 2048): string =>
  generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('Clockify public key', () => {
  it("loads Clockify's shipped 2048-bit RSA key by default", () => {
    const { pem, source } = loadPublicKeyPem();
    expect(source).toBe('default');
    expect(DEFAULT_CLOCKIFY_PUBLIC_KEY_FILE).toMatch(/packages\/clockify\/data\/clockify-addon-public-key\.pem$/);
    // Beginning and end of the key published in Clockify's docs (REFERENCE.md §2.4).
    expect(pem).toContain('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAubktufFNO/op');
    expect(pem.replace(/\s/g, '')).toContain('Yjh0duk6yQIDAQAB');
    const key = createPublicKey(pem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(inspectRsaPublicKey(pem).modulusLength).toBe(2048);
    expect(isDefaultClockifyKey(pem)).toBe(true);
  });

  it('prefers PEM text over a file, and a file over the default', () => {
    const textPem = rsaPem();
    const filePem = rsaPem();
    const file = join(dir, 'file.pem');
    writeFileSync(file, filePem);
    expect(loadPublicKeyPem({ pem: textPem, file })).toEqual({ pem: textPem, source: 'pem' });
    expect(loadPublicKeyPem({ file })).toEqual({ pem: filePem, source: 'file' });
    expect(loadPublicKeyPem({ pem: '  ', file })).toEqual({ pem: filePem, source: 'file' });
    expect(isDefaultClockifyKey(filePem)).toBe(false);
  });

  it('accepts PEM text with \\n escapes, quotes or no armor, as environment variables deliver it', () => {
    const pem = rsaPem();
    const escaped = pem.trimEnd().replace(/\n/g, '\\n');
    expect(escaped).not.toContain('\n');
    expect(loadPublicKeyPem({ pem: escaped }).pem).toBe(pem);
    expect(loadPublicKeyPem({ pem: `"${escaped}"` }).pem).toBe(pem);
    expect(loadPublicKeyPem({ pem: pem.replace(/\n/g, '\r\n') }).pem).toBe(pem);
    const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '');
    expect(
      createPublicKey(loadPublicKeyPem({ pem: body }).pem)
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    ).toBe(pem);
  });

  it("recognises Clockify's key however it was delivered", () => {
    const shipped = readFileSync(DEFAULT_CLOCKIFY_PUBLIC_KEY_FILE, 'utf8');
    expect(isDefaultClockifyKey(loadPublicKeyPem({ pem: shipped.trim().replace(/\n/g, '\\n') }).pem)).toBe(true);
  });

  it('refuses a private key, a non-RSA key, a short RSA key and garbage', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadPublicKeyPem({ pem: privatePem })).toThrow(/PRIVATE key/);
    expect(() => loadPublicKeyPem({ pem: privatePem })).not.toThrow(
      new RegExp(privatePem.split('\n')[1]!.slice(0, 20)),
    );

    const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(() => inspectRsaPublicKey(ecPem)).toThrow(/RSA/);
    expect(() => inspectRsaPublicKey(rsaPem(1024))).toThrow(/2048/);
    expect(() => inspectRsaPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')).toThrow(/parsed/);
    expect(() => inspectRsaPublicKey('hello')).toThrow(/SPKI/);
  });

  it('names the file it cannot read and refuses oversized files', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => loadPublicKeyPem({ file: missing })).toThrow(missing);
    expect(() => loadPublicKeyPem({ file: dir })).toThrow(/not a regular file/);
    const big = join(dir, 'big.pem');
    writeFileSync(big, 'x'.repeat(70_000));
    expect(() => loadPublicKeyPem({ file: big })).toThrow(/bytes/);
  });
});
