// `npm start` outside production with no admin credentials: Bull Board (and the admin API) behind a
// password generated once into DATA_DIR, so an operator has /admin/queues on the first start.
// The apps themselves keep "off until ADMIN_USERNAME and ADMIN_PASSWORD are set"; only this
// launcher fills them in, and never in production. Bull Board stays read-only with them.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIRST_RUN_ADMIN_USER = 'admin';
export const FIRST_RUN_ADMIN_FILE = 'admin-password';

/**
 * Sets ADMIN_USERNAME/ADMIN_PASSWORD in `env` from DATA_DIR/admin-password (created 0600 with an
 * exclusive create on the first run), and CAP_FIRST_RUN_ADMIN_FILE to that path for the banner;
 * returns where the password is, or undefined when the environment already has credentials or
 * runs in production.
 */
export function firstRunAdmin(env, dataDir) {
  if (env.NODE_ENV === 'production' || env.ADMIN_USERNAME || env.ADMIN_PASSWORD) return undefined;
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, FIRST_RUN_ADMIN_FILE);
  let password;
  try {
    password = randomBytes(18).toString('base64url');
    writeFileSync(path, `${password}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    password = readFileSync(path, 'utf8').trim();
    if (password.length < 12) throw new Error(`${path} holds no usable password; delete it to generate one`);
  }
  env.ADMIN_USERNAME = FIRST_RUN_ADMIN_USER;
  env.ADMIN_PASSWORD = password;
  env.ADMIN_BULL_BOARD_WRITE = 'false';
  env.CAP_FIRST_RUN_ADMIN_FILE = path;
  return { user: FIRST_RUN_ADMIN_USER, path };
}
