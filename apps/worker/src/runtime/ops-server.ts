import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@cap/observability';
import { handleOps, type OpsOptions } from '@cap/service';

/** The worker's small HTTP server: /health, /ready, /metrics; everything else 404. */
export async function startOpsServer(
  port: number,
  ops: OpsOptions,
  logger: Logger,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handleOps(req, res, ops)
      .then((handled) => {
        if (!handled) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { code: 'not_found', message: 'the worker serves /health, /ready and /metrics' } }),
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
  return { server, port: (server.address() as AddressInfo).port };
}
