import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption of Clockify tokens. A ciphertext is
 * `enc:v2:<keyId>:<iv>:<ciphertext>:<tag>` (base64url parts), where keyId is derived from the
 * key itself, so a keyring holding the current key and older ones can decrypt anything written
 * before a rotation and {@link Keyring.needsRotation} tells what to re-encrypt.
 *
 * The additional authenticated data binds a v2 ciphertext to where it belongs — the key id, the
 * workspace, the installation and the column (see {@link TokenContext}) — so a ciphertext moved
 * to another row (another workspace's installation token pasted into this one) does not decrypt.
 * `enc:v1:` ciphertexts (the key id as the only AAD) still decrypt; `keys rotate` rewrites them.
 */

const PREFIX_V1 = 'enc:v1:';
const PREFIX = 'enc:v2:';

/** Where a token's ciphertext is kept: what its AAD binds it to. */
export interface TokenContext {
  readonly workspaceId: string;
  readonly addonId: string;
  /** A TOKEN_COLUMNS label. */
  readonly column: string;
}

/** The column labels of TokenContext. A webhook token is bound to its event too. */
export const TOKEN_COLUMNS = {
  installationToken: 'installations.auth_token_enc',
  webhookToken: (event: string) => `installation_webhooks.token_enc:${event}`,
  /** A forwarding rule's signing secrets and extra header values (bound to the rule's id). */
  forwardingSecret: (ruleId: string) => `forwarding_rules.secret_enc:${ruleId}`,
  forwardingHeaders: (ruleId: string) => `forwarding_rules.headers_enc:${ruleId}`,
} as const;

/** The plaintext token of an `installations` row (keep it in memory only). */
export function installationTokenOf(
  keyring: Pick<Keyring, 'decrypt'>,
  row: { readonly workspace_id: string; readonly addon_id: string; readonly auth_token_enc: string },
): string {
  return keyring.decrypt(row.auth_token_enc, {
    workspaceId: row.workspace_id,
    addonId: row.addon_id,
    column: TOKEN_COLUMNS.installationToken,
  });
}

function aad(keyId: string, context: TokenContext): Buffer {
  // A JSON array: unambiguous whatever the ids contain.
  return Buffer.from(JSON.stringify(['cap-token', 'v2', keyId, context.workspaceId, context.addonId, context.column]));
}
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptionError extends Error {
  constructor(reason: string) {
    super(`cannot decrypt secret: ${reason}`);
    this.name = 'DecryptionError';
  }
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('cap-token-key:').update(key).digest('base64url').slice(0, 8);
}

export function parseKey(base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error('an encryption key must be base64 of exactly 32 bytes');
  return key;
}

export class Keyring {
  readonly currentKeyId: string;
  private readonly current: Buffer;
  private readonly keys = new Map<string, Buffer>();

  /** `current` encrypts; `previous` keys only decrypt. */
  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    if (current.length !== 32) throw new Error('the current key must be 32 bytes');
    this.current = current;
    this.currentKeyId = keyIdOf(current);
    this.keys.set(this.currentKeyId, current);
    for (const key of previous) {
      if (key.length !== 32) throw new Error('previous keys must be 32 bytes');
      if (!this.keys.has(keyIdOf(key))) this.keys.set(keyIdOf(key), key);
    }
  }

  static fromBase64(current: string, previous: readonly string[] = []): Keyring {
    return new Keyring(parseKey(current), previous.map(parseKey));
  }

  encrypt(plaintext: string, context: TokenContext): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    // The key id and the place are authenticated too: no relabelling to another key, no moving.
    cipher.setAAD(aad(this.currentKeyId, context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${PREFIX}${this.currentKeyId}:${iv.toString('base64url')}:${body.toString('base64url')}:${tag.toString('base64url')}`;
  }

  /** Decrypts a v2 ciphertext made for `context` (or a legacy v1 one, which binds no context). */
  decrypt(ciphertext: string, context: TokenContext): string {
    const v1 = ciphertext.startsWith(PREFIX_V1);
    if (!v1 && !ciphertext.startsWith(PREFIX)) throw new DecryptionError('not a ciphertext of this format');
    const parts = ciphertext.slice(PREFIX.length).split(':');
    if (parts.length !== 4) throw new DecryptionError('malformed ciphertext');
    const [keyId, ivPart, bodyPart, tagPart] = parts as [string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) throw new DecryptionError(`unknown key id ${keyId} (was the key rotated away?)`);
    const iv = Buffer.from(ivPart, 'base64url');
    const tag = Buffer.from(tagPart, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError('malformed ciphertext');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(v1 ? Buffer.from(keyId) : aad(keyId, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(bodyPart, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError('authentication failed (tampered, moved from another row, or wrong key)');
    }
  }

  /** True when the ciphertext is v1 or made with an older key, and should be re-encrypted. */
  needsRotation(ciphertext: string): boolean {
    return !ciphertext.startsWith(`${PREFIX}${this.currentKeyId}:`);
  }

  /** The key id a ciphertext names (undefined when it is not one), for reports that name a missing key. */
  static keyIdOf(ciphertext: string): string | undefined {
    if (!Keyring.isCiphertext(ciphertext)) return undefined;
    return ciphertext.slice(PREFIX.length).split(':')[0];
  }

  /** True for the keys this keyring holds. */
  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  static isCiphertext(value: string): boolean {
    return value.startsWith(PREFIX) || value.startsWith(PREFIX_V1);
  }
}

/** SHA-256 hex of a token: what is stored and compared where the token itself is not needed. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
