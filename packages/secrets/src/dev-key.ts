import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKey } from './keyring.js';

export const DEV_KEY_FILE = 'token-encryption.key';

export interface ResolvedKey {
  readonly key: string;
  /** Where it came from, for the start-up log line (never the key). */
  readonly source: 'environment' | 'generated' | 'data-dir';
  readonly path?: string;
}

/**
 * The encryption key: `TOKEN_ENCRYPTION_KEY` when set; otherwise (never in production — config
 * refuses that) a key generated once into `DATA_DIR`. The file is created with an exclusive
 * create, so two processes starting together agree on one key: the loser reads the winner's.
 */
export function resolveEncryptionKey(opts: { configured: string | undefined; dataDir: string }): ResolvedKey {
  if (opts.configured) return { key: opts.configured, source: 'environment' };
  mkdirSync(opts.dataDir, { recursive: true });
  const path = join(opts.dataDir, DEV_KEY_FILE);
  const fresh = randomBytes(32).toString('base64');
  try {
    writeFileSync(path, `${fresh}\n`, { flag: 'wx', mode: 0o600 });
    return { key: fresh, source: 'generated', path };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Another process may have created the file an instant ago and not written it yet.
  const deadline = Date.now() + 2000;
  for (;;) {
    const text = readFileSync(path, 'utf8').trim();
    if (text.length > 0) {
      parseKey(text);
      return { key: text, source: 'data-dir', path };
    }
    if (Date.now() > deadline) throw new Error(`${path} is empty; delete it to generate a new key`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}
