import type { Redis } from 'ioredis';
import type { RegisteredAddon } from '@cap/addon';
import type { Manifest, TokenVerifier, WebhookEventName } from '@cap/clockify';
import type { DatabaseHandle } from '@cap/db';
import type { Logger, Metrics } from '@cap/observability';
import type { DurabilityBarrier, Queues } from '@cap/queue';
import type { Keyring } from '@cap/secrets';
import type { IngressConfig } from './config.js';
import type { IngressMetrics } from './metrics.js';
import type { DepthSampler } from './depth-sampler.js';
import type { GateReleaser } from './gates.js';

/** Everything the routes use; built once in start.ts. */
export interface IngressContext {
  readonly config: IngressConfig;
  readonly addon: RegisteredAddon;
  readonly manifest: Manifest;
  /** The serialized manifest, served as is. */
  readonly manifestJson: string;
  /** Subscribed events by route segment (`new-time-entry` → NEW_TIME_ENTRY). */
  readonly routes: ReadonlyMap<string, WebhookEventName>;
  readonly verifier: TokenVerifier;
  readonly keyring: Keyring;
  /** Fail-fast producer connection (no offline queue, command timeout). */
  readonly redis: Redis;
  readonly queues: Queues;
  readonly depth: DepthSampler;
  /** Releases the dedupe gates of deliveries answered 503 (retrying while Redis is away). */
  readonly gates: GateReleaser;
  /** Confirms acknowledged jobs durable before a 2xx (lifecycle always, webhooks by config). */
  readonly durable: DurabilityBarrier;
  /** For component and admin routes only; the webhook and lifecycle routes never touch it. */
  readonly database: DatabaseHandle;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The ingress's own metrics (requests, webhooks by outcome, enqueue time, skipped webhooks). */
  readonly ingressMetrics: IngressMetrics;
  readonly isAccepting: () => boolean;
}
