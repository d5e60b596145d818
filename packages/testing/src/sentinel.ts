import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stopChild } from './processes.js';
import { freePort, waitFor } from './wait.js';

export interface OwnSentinel {
  readonly port: number;
  /** The name of the primary it monitors. */
  readonly name: string;
  /** REDIS_URL through this sentinel. */
  readonly url: string;
  /** The primary's address as the sentinel reports it now (`host:port`). */
  primary(): Promise<string>;
  close(): Promise<void>;
}

/**
 * A Redis Sentinel of the test's own on a free port, monitoring the primary on `primaryPort`
 * (quorum 1), quick to fail over: the primary counts as down after `downAfterMs` without answers.
 */
export async function startOwnSentinel(
  primaryPort: number,
  opts: { name?: string; downAfterMs?: number } = {},
): Promise<OwnSentinel> {
  const name = opts.name ?? 'capprimary';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cap-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
      `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${name} 3000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const admin = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true });
  admin.on('error', () => {});
  const primary = async () => {
    const addr = (await admin.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string] | null;
    return addr ? `${addr[0]}:${addr[1]}` : '';
  };
  try {
    await waitFor(
      async () => {
        if (admin.status !== 'ready') await admin.connect().catch(() => undefined);
        return admin.status === 'ready' && (await primary()) === `127.0.0.1:${primaryPort}`;
      },
      { timeoutMs: 10_000, message: `sentinel on port ${port} monitoring 127.0.0.1:${primaryPort}` },
    );
  } catch (err) {
    admin.disconnect();
    await stopChild(proc);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    name,
    url: `redis+sentinel://127.0.0.1:${port}/${name}`,
    primary,
    async close() {
      admin.disconnect();
      await stopChild(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
