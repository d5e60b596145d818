import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@cap/config';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The local RSA key pair that plays Clockify's signing key. */
export interface SimulatorKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key: give it to the add-on as `CLOCKIFY_PUBLIC_KEY`. */
  readonly publicKeyPem: string;
  /** Path of the public key PEM: give it to the add-on as `CLOCKIFY_PUBLIC_KEY_FILE`. */
  readonly publicKeyPath: string;
  readonly privateKeyPath: string;
  /** A short SHA-256 thumbprint of the public key, for humans comparing keys. */
  readonly fingerprint: string;
}

export const PRIVATE_KEY_FILE = 'private-key.pem';
export const PUBLIC_KEY_FILE = 'public-key.pem';

/** `DATA_DIR` from the environment, else `.data` at the repository root (as the apps do). */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.DATA_DIR?.trim();
  return fromEnv ? fromEnv : join(repoRoot(), '.data');
}

/** Where the simulator keeps its keys and state: `<DATA_DIR>/simulator`. */
export function simulatorDir(dataDir: string): string {
  return join(dataDir, 'simulator');
}

/** Path of the public key PEM under a data dir (whether or not it exists yet). */
export function publicKeyPath(dataDir: string): string {
  return join(simulatorDir(dataDir), PUBLIC_KEY_FILE);
}

/**
 * Loads the simulator's key pair from `<dataDir>/simulator/`, creating it on first use.
 *
 * The private key appears atomically and exclusively (written to a temporary file, then
 * hard-linked into place, which fails if another process got there first), so simulators started
 * at the same moment agree on one key and nobody ever reads half a file. The public key is always
 * derived from the private key, so it cannot drift from it.
 */
export async function loadOrCreateKeys(dataDir: string): Promise<SimulatorKeys> {
  const dir = simulatorDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privateKeyPath = join(dir, PRIVATE_KEY_FILE);
  const pubPath = join(dir, PUBLIC_KEY_FILE);

  let privatePem = await readIfExists(privateKeyPath);
  if (privatePem === undefined) {
    const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await createExclusively(privateKeyPath, pem, 0o600);
    privatePem = await readFile(privateKeyPath, 'utf8');
  }
  await tightenMode(privateKeyPath);

  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privatePem);
  } catch {
    throw new Error(
      `${privateKeyPath} is not a readable PEM private key; delete it to let the simulator create a new one`,
    );
  }
  const details = privateKey.asymmetricKeyDetails;
  if (privateKey.asymmetricKeyType !== 'rsa' || (details?.modulusLength ?? 0) < 2048) {
    throw new Error(`${privateKeyPath} must hold an RSA key of at least 2048 bits`);
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if ((await readIfExists(pubPath)) !== publicKeyPem) {
    // Every contender writes the same bytes, so last-rename-wins is harmless.
    const tmp = `${pubPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, publicKeyPem, { mode: 0o644 });
    await rename(tmp, pubPath);
  }
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const fingerprint = createHash('sha256').update(der).digest('hex').slice(0, 16);
  return { privateKey, publicKey, publicKeyPem, publicKeyPath: pubPath, privateKeyPath, fingerprint };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function createExclusively(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode, flag: 'wx' });
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'ENOSYS') {
      // File systems without hard links: an exclusive create still lets only one writer win,
      // at the cost of a short window in which a reader may see a partial file.
      try {
        await writeFile(path, content, { mode, flag: 'wx' });
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code !== 'EEXIST') throw inner;
      }
      return;
    }
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function tightenMode(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) await chmod(path, 0o600);
}
