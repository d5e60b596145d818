import type { Queues } from '@cap/queue';
import { QUEUE_NAMES } from '@cap/queue';
import type { Metrics } from '@cap/observability';

export type WebhookOutcome = 'accepted' | 'duplicate' | 'rejected' | 'shed' | 'unavailable';

export function createIngressMetrics(metrics: Metrics, queues: Queues) {
  const requests = metrics.counter('http_requests_total', 'HTTP requests by route, method and status', [
    'route',
    'method',
    'status',
  ]);
  const duration = metrics.histogram('http_request_duration_seconds', 'HTTP request latency', [
    'route',
    'method',
    'status',
  ]);
  const webhooks = metrics.counter('webhook_deliveries_total', 'Webhook deliveries by event and outcome', [
    'event',
    'outcome',
  ]);
  const webhookSkipped = metrics.counter(
    'installed_webhooks_skipped_total',
    'INSTALLED webhooks[] entries not stored (bad token, path matching no route, malformed), by reason',
    ['reason'],
  );
  const enqueue = metrics.histogram('queue_enqueue_duration_seconds', 'Time to add a job to a queue', ['queue']);
  metrics.gauge(
    'queue_jobs',
    'Jobs per queue and state (sampled at scrape time; waiting includes prioritized)',
    ['queue', 'state'],
    async function () {
      const byName = new Map(Object.values(queues).map((q) => [q.name, q]));
      await Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const queue = byName.get(name);
          if (!queue) return;
          try {
            const {
              waiting = 0,
              prioritized = 0,
              ...rest
            } = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
            // Webhook jobs wait in BullMQ's prioritized set (their fair turn): waiting all the same.
            this.set({ queue: name, state: 'waiting' }, waiting + prioritized);
            for (const [state, n] of Object.entries(rest)) this.set({ queue: name, state }, n);
          } catch {
            // Redis unreachable: keep the last values; /ready reports the outage.
          }
        }),
      );
    },
  );
  return {
    /** Records one finished request. */
    observe(route: string, method: string, status: number, seconds: number) {
      const labels = { route, method, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
    webhook(event: string, outcome: WebhookOutcome) {
      webhooks.inc({ event, outcome });
    },
    enqueue,
    webhookSkipped,
  };
}

export type IngressMetrics = ReturnType<typeof createIngressMetrics>;
