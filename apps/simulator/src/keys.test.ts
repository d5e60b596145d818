import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateKeys, PUBLIC_KEY_FILE } from './keys.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('loadOrCreateKeys', () => {
  it('creates one RSA-2048 key pair even when started concurrently, and reuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cap-sim-keys-'));
    dirs.push(dir);
    const all = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateKeys(dir)));
    const fingerprints = new Set(all.map((k) => k.fingerprint));
    expect(fingerprints.size).toBe(1);
    const again = await loadOrCreateKeys(dir);
    expect(again.fingerprint).toBe(all[0]?.fingerprint);
    expect(again.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(await readFile(join(dir, 'simulator', PUBLIC_KEY_FILE), 'utf8')).toBe(again.publicKeyPem);
    if (process.platform !== 'win32') expect((await stat(again.privateKeyPath)).mode & 0o777).toBe(0o600);
  });
});
