import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '@cap/observability';

export type ReadinessCheck = () => Promise<unknown>;

export interface OpsOptions {
  readonly metrics: Metrics;
  /** Dependency checks for /ready; each gets `checkTimeoutMs`. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** False while starting and once shutting down. */
  readonly isAccepting: () => boolean;
  readonly checkTimeoutMs?: number;
  /**
   * False on a public port: /ready answers only `ready` or `not ready`, never the names of the
   * checks or their error text (which can name hosts and internal state). Default true.
   */
  readonly readyDetail?: boolean;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, 'ok' | string>;
}

async function withTimeout(check: ReadinessCheck, ms: number): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return (err as Error).message.slice(0, 200);
  } finally {
    clearTimeout(timer);
  }
}

export async function readiness(opts: OpsOptions): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(opts.checks).map(
      async ([name, check]) => [name, await withTimeout(check, opts.checkTimeoutMs ?? 1500)] as const,
    ),
  );
  const checks = Object.fromEntries(entries);
  const accepting = opts.isAccepting();
  if (!accepting) checks.process = 'shutting down';
  return { ready: accepting && entries.every(([, v]) => v === 'ok'), checks };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * Serves /health (the process is alive: never depends on Redis or Postgres), /ready
 * (dependencies reachable and not shutting down) and /metrics. Returns false for other paths.
 */
export async function handleOps(req: IncomingMessage, res: ServerResponse, opts: OpsOptions): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  switch (path) {
    case '/health':
      send(res, 200, 'application/json', JSON.stringify({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }));
      return true;
    case '/ready': {
      const report = await readiness(opts);
      const status = report.ready ? 'ready' : 'not ready';
      send(
        res,
        report.ready ? 200 : 503,
        'application/json',
        JSON.stringify(opts.readyDetail === false ? { status } : { status, checks: report.checks }),
      );
      return true;
    }
    case '/metrics': {
      const { contentType, body } = await opts.metrics.render();
      send(res, 200, contentType, body);
      return true;
    }
    default:
      return false;
  }
}
