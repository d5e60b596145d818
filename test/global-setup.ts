import { execFileSync } from 'node:child_process';
import net from 'node:net';

/**
 * Tests talk to a real Redis and a real Postgres: `REDIS_URL` and `TEST_DATABASE_URL`, default
 * the local servers. When one does not answer and a Docker engine does, it is started with
 * testcontainers; otherwise the run stops at once with a message saying what is missing.
 */

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    socket.setTimeout(1500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<unknown>> = [];
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dbUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

  if (!(await reachable(redisUrl, 6379))) {
    if (!dockerAnswers()) {
      throw new Error(
        `Redis does not answer at ${redisUrl} and no Docker engine is available: start redis-server or set REDIS_URL.`,
      );
    }
    const { GenericContainer } = await import('testcontainers');
    const c = await new GenericContainer('redis:7-alpine')
      .withCommand(['redis-server', '--maxmemory-policy', 'noeviction', '--appendonly', 'yes'])
      .withExposedPorts(6379)
      .start();
    process.env.REDIS_URL = `redis://${c.getHost()}:${c.getMappedPort(6379)}`;
    stops.push(() => c.stop());
  }
  if (!(await reachable(dbUrl, 5432))) {
    if (!dockerAnswers()) {
      throw new Error(
        `Postgres does not answer at ${dbUrl} and no Docker engine is available: start Postgres or set TEST_DATABASE_URL.`,
      );
    }
    const { GenericContainer } = await import('testcontainers');
    const c = await new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' })
      .withExposedPorts(5432)
      .start();
    process.env.TEST_DATABASE_URL = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/test`;
    stops.push(() => c.stop());
  }
  return async () => {
    await Promise.allSettled(stops.map((s) => s()));
  };
}
