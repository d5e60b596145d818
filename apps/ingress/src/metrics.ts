import { registerQueueGauges } from '@cap/app-process';
import type { Redis } from 'ioredis';
import type { Metrics } from '@cap/observability';
import type { Queues } from '@cap/queue';

export type WebhookOutcome = 'accepted' | 'duplicate' | 'rejected' | 'shed' | 'unavailable';

export function createIngressMetrics(metrics: Metrics, queues: Queues, redis: Redis) {
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
  registerQueueGauges(metrics, redis, Object.values(queues));
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
