import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './processes.js';
import { freePort, waitFor } from './wait.js';

export interface OwnPgBouncer {
  /** The database's URL through the pooler. */
  readonly url: string;
  /** What the pooler logged (its startup-parameter refusals among them). */
  log(): string;
  close(): Promise<void>;
}

/** True when Debian's `pgbouncer` is installed. */
export function pgBouncerAvailable(): boolean {
  return spawnSync('pgbouncer', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * A PgBouncer of the test's own on a free port in front of the database at `databaseUrl`
 * (trust auth, as the test Postgres has), in `poolMode`. PgBouncer refuses to run as root, so
 * under root it runs as the `postgres` user.
 */
export async function startPgBouncer(
  databaseUrl: string,
  opts: { poolMode?: 'transaction' | 'session'; poolSize?: number } = {},
): Promise<OwnPgBouncer> {
  const target = new URL(databaseUrl);
  const dbName = target.pathname.slice(1);
  const user = decodeURIComponent(target.username || 'postgres');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cap-pgbouncer-'));
  chmodSync(dir, 0o777);
  const logFile = join(dir, 'pgbouncer.log');
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${dbName} = host=${target.hostname} port=${target.port || 5432} dbname=${dbName}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      "unix_socket_dir = ''",
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `pool_mode = ${opts.poolMode ?? 'transaction'}`,
      `default_pool_size = ${opts.poolSize ?? 5}`,
      `logfile = ${logFile}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  writeFileSync(logFile, '');
  chmodSync(logFile, 0o666);
  const idOf = (flag: '-u' | '-g') => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const proc: ChildProcess = spawn('pgbouncer', [join(dir, 'pgbouncer.ini')], {
    stdio: 'ignore',
    ...(process.getuid?.() === 0 ? { uid: idOf('-u'), gid: idOf('-g') } : {}),
  });
  const read = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          if (proc.exitCode !== null) return resolve(false);
          const socket = net.connect({ host: '127.0.0.1', port });
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      { timeoutMs: 10_000, message: `pgbouncer on port ${port} (log: ${read()})` },
    );
  } catch (err) {
    await stopChild(proc);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    log: read,
    async close() {
      await stopChild(proc, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
