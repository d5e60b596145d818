import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './processes.js';
import { redisAnswers } from './redis-server.js';
import { freePort, waitFor } from './wait.js';

export interface OwnCluster {
  /** REDIS_URL of the cluster (all its nodes). */
  readonly url: string;
  readonly ports: readonly number[];
  close(): Promise<void>;
}

/**
 * A Redis Cluster of the test's own: `nodes` primaries (no replicas) on free ports, each a
 * `redis-server --cluster-enabled yes`, joined and given all 16,384 slots by
 * `redis-cli --cluster create`.
 */
export async function startOwnCluster(nodes = 3): Promise<OwnCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cap-cluster-'));
  const ports: number[] = [];
  const procs: ChildProcess[] = [];
  const close = async () => {
    await Promise.all(procs.map((p) => stopChild(p)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      ports.push(port);
      procs.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            dir,
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of ports) {
      await waitFor(() => redisAnswers(port), {
        message: `cluster node on port ${port}`,
      });
    }
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) {
      await waitFor(() => redisAnswers(port, async (r) => /cluster_state:ok/.test(String(await r.cluster('INFO')))), {
        timeoutMs: 20_000,
        message: `cluster_state:ok on port ${port}`,
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, close };
}
