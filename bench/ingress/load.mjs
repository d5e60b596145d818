// The load generator, in a process of its own so its CPU is not the server's event loop:
// autocannon POSTing signed webhooks whose bodies are all different (no dedupe shortcut).
// Usage: node load.mjs <json options>; prints one JSON line with the result.
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2] ?? '{}');
const { url, connections = 50, duration = 10, token, workspaceId } = opts;

let n = 0;
const instance = autocannon({
  url,
  connections,
  duration,
  pipelining: 1,
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'clockify-signature': token,
    'clockify-webhook-event-type': 'NEW_TIME_ENTRY',
  },
  requests: [
    {
      setupRequest(req) {
        n += 1;
        // A realistic small time-entry body; the id and counter make every delivery unique.
        req.body = JSON.stringify({
          id: randomUUID(),
          workspaceId,
          userId: 'u-bench',
          description: `bench entry ${n}`,
          billable: true,
          timeInterval: { start: '2026-11-28T09:00:00Z', end: '2026-11-28T10:00:00Z', duration: 'PT1H' },
          tagIds: [],
        });
        return req;
      },
    },
  ],
});
instance.on('done', (result) => {
  process.stdout.write(
    `${JSON.stringify({
      requests: result.requests.total,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      seconds: result.duration,
    })}\n`,
  );
});
