import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@cap/observability';
import { handleOps, type OpsOptions } from './ops.js';

export interface OpsServer {
  readonly server: Server;
  readonly port: number;
  /** Stops listening and drops open connections (probes and scrapes are short). */
  close(): Promise<void>;
}

/**
 * The small HTTP server of the worker and of the ingress's ops port: /health, a detailed /ready
 * and /metrics; everything else 404. It binds all interfaces, like the apps' main ports, because
 * Prometheus and the kubelet reach pods by their IPs; keep it off public load balancers.
 */
export async function startOpsServer(port: number, ops: OpsOptions, logger: Logger): Promise<OpsServer> {
  const server = createServer((req, res) => {
    handleOps(req, res, ops)
      .then((handled) => {
        if (!handled) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: { code: 'not_found', message: 'the ops server serves /health, /ready and /metrics' },
            }),
          );
        }
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'ops request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
