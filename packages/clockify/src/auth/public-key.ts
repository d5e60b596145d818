import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { clockifyDataPath } from '../data.js';

/** Clockify's published add-on signing key (RSA-2048, SPKI), shipped with this package. */
export const DEFAULT_CLOCKIFY_PUBLIC_KEY_FILE = clockifyDataPath('clockify-addon-public-key.pem');

export type PublicKeySource = 'default' | 'pem' | 'file';

export interface LoadedPublicKey {
  readonly pem: string;
  readonly source: PublicKeySource;
}

/** A public key PEM is well under 1 KiB; anything this large is the wrong file. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
const MIN_RSA_BITS = 2048;

/**
 * Picks the PEM the verifier trusts: explicit PEM text wins over a file, and with neither the
 * shipped Clockify key is used. Text usually comes from an environment variable, where newlines
 * are often written as `\n` escapes and the value may be quoted; both are undone here.
 */
export function loadPublicKeyPem(input: { pem?: string | undefined; file?: string | undefined } = {}): LoadedPublicKey {
  if (input.pem !== undefined && input.pem.trim() !== '') {
    return { pem: normalizePemText(input.pem), source: 'pem' };
  }
  if (input.file !== undefined && input.file.trim() !== '') {
    return { pem: normalizePemText(readKeyFile(input.file)), source: 'file' };
  }
  return { pem: readKeyFile(DEFAULT_CLOCKIFY_PUBLIC_KEY_FILE), source: 'default' };
}

export interface InspectedPublicKey {
  readonly keyObject: KeyObject;
  readonly modulusLength: number;
  /** SHA-256 hex of the SPKI DER: public, stable, and safe to log to say which key is in use. */
  readonly fingerprint: string;
}

/** Parses an SPKI PEM and insists on an RSA key of at least 2048 bits (what RS256 needs). */
export function inspectRsaPublicKey(pem: string): InspectedPublicKey {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new Error('Clockify public key must be an SPKI PEM ("-----BEGIN PUBLIC KEY-----")');
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('Clockify public key PEM could not be parsed');
  }
  if (keyObject.asymmetricKeyType !== 'rsa') {
    throw new Error(`Clockify public key must be an RSA key, got ${String(keyObject.asymmetricKeyType)}`);
  }
  const modulusLength = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
  if (modulusLength < MIN_RSA_BITS) {
    throw new Error(`Clockify public key must have at least ${MIN_RSA_BITS} bits, got ${modulusLength}`);
  }
  const der = keyObject.export({ type: 'spki', format: 'der' });
  return { keyObject, modulusLength, fingerprint: createHash('sha256').update(der).digest('hex') };
}

let defaultFingerprint: string | undefined;

/** Whether a PEM holds the very key Clockify publishes, whatever its formatting or source. */
export function isDefaultClockifyKey(pem: string): boolean {
  defaultFingerprint ??= inspectRsaPublicKey(readKeyFile(DEFAULT_CLOCKIFY_PUBLIC_KEY_FILE)).fingerprint;
  try {
    return inspectRsaPublicKey(pem).fingerprint === defaultFingerprint;
  } catch {
    return false;
  }
}

function readKeyFile(file: string): string {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a regular file');
    size = stat.size;
  } catch (err) {
    throw new Error(`Clockify public key file ${file} cannot be read: ${(err as Error).message}`);
  }
  if (size > MAX_KEY_FILE_BYTES) {
    throw new Error(
      `Clockify public key file ${file} is ${size} bytes; a PEM public key is under ${MAX_KEY_FILE_BYTES}`,
    );
  }
  return readFileSync(file, 'utf8');
}

function normalizePemText(raw: string): string {
  let text = raw.trim();
  if (text.length > MAX_KEY_FILE_BYTES) {
    throw new Error('Clockify public key text is too long to be a PEM public key');
  }
  const quoted = /^(["'])([\s\S]*)\1$/.exec(text);
  if (quoted) text = quoted[2]!.trim();
  text = text.replace(/\\r\\n|\\n|\\r/g, '\n').replace(/\r\n?/g, '\n');
  if (/PRIVATE KEY/.test(text)) {
    // Refuse rather than derive the public half: a private key in this setting is a leak to fix.
    throw new Error('Clockify public key setting holds a PRIVATE key; configure the public key only');
  }
  // A bare base64 body (armor lines lost along the way) is still an SPKI key; re-armor it.
  if (!text.includes('-----BEGIN') && /^[A-Za-z0-9+/=\s]+$/.test(text)) {
    const body = text.replace(/\s+/g, '');
    const lines = body.match(/.{1,64}/g) ?? [];
    text = ['-----BEGIN PUBLIC KEY-----', ...lines, '-----END PUBLIC KEY-----'].join('\n');
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}
