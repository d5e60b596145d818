import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stopChild } from './processes.js';
import { freePort, waitFor } from './wait.js';

export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** An admin connection that is never killed by the fault helpers below. */
  readonly admin: Redis;
  /** `CLIENT KILL` every client but the admin one. */
  killClients(): Promise<number>;
  /** `CLIENT PAUSE ms ALL`: every command of every client stalls. */
  pause(ms: number): Promise<void>;
  /** SIGSTOP/SIGCONT the server process. */
  freeze(): void;
  thaw(): void;
  /** Stops the server; `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Whether the redis-server on `port` answers `check` (default PING) now, on a connection of its
 * own that does not retry; false while it cannot be reached.
 */
export async function redisAnswers(
  port: number,
  check: (r: Redis) => Promise<boolean> = async (r) => (await r.ping()) === 'PONG',
): Promise<boolean> {
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return await check(probe);
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * A redis-server of the test's own on a free port, so fault tests can kill, pause and stop it
 * without disturbing other tests. `stop()` kills it with SIGKILL; with `appendonly` the data
 * survives the restart.
 */
export async function startOwnRedis(
  opts: {
    appendonly?: boolean;
    /** With `appendonly`: `always` unless set. */
    appendfsync?: 'always' | 'everysec';
    maxmemoryPolicy?: string;
    /** Port of a primary on 127.0.0.1 this server replicates. */
    replicaOf?: number;
  } = {},
): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cap-redis-'));
  let proc: ChildProcess | undefined;
  let admin: Redis | undefined;

  const launch = async () => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        // With AOF (fsync always) a restart keeps every acknowledged write, as production should.
        ...(opts.appendonly
          ? ['--appendonly', 'yes', '--appendfsync', opts.appendfsync ?? 'always']
          : ['--appendonly', 'no']),
        ...(opts.replicaOf !== undefined ? ['--replicaof', '127.0.0.1', String(opts.replicaOf)] : []),
        '--dir',
        dir,
        '--maxmemory-policy',
        opts.maxmemoryPolicy ?? 'noeviction',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(() => redisAnswers(port), { timeoutMs: 10_000, message: `redis-server on port ${port}` });
    admin = new Redis(port, '127.0.0.1', { connectionName: 'test-admin', maxRetriesPerRequest: null });
    admin.on('error', () => {});
    const id = await admin.client('ID');
    adminId = Number(id);
  };
  let adminId = 0;
  await launch();

  const self: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    get admin() {
      return admin!;
    },
    async killClients() {
      const list = String(await admin!.client('LIST'));
      let killed = 0;
      for (const line of list.split('\n')) {
        const id = /\bid=(\d+)/.exec(line)?.[1];
        if (id && Number(id) !== adminId) {
          killed += Number(await admin!.client('KILL', 'ID', id));
        }
      }
      return killed;
    },
    async pause(ms: number) {
      await admin!.client('PAUSE', ms, 'ALL');
    },
    freeze() {
      proc?.kill('SIGSTOP');
    },
    thaw() {
      proc?.kill('SIGCONT');
    },
    async stop() {
      admin?.disconnect();
      if (proc) await stopChild(proc);
    },
    async start() {
      await launch();
    },
    async close() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
