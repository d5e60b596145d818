import type { Redis } from 'ioredis';
import type { RegisteredAddon } from '@cap/addon';
import type { RateLimiter } from '@cap/clockify';
import type { Database, Kysely } from '@cap/db';
import type { Logger, Metrics } from '@cap/observability';
import type { Queues } from '@cap/queue';
import type { Keyring } from '@cap/secrets';
import type { WorkerConfig } from './config.js';
import type { DeliveryGroups } from './webhooks/delivery-groups.js';
import type { InstallationCache } from './webhooks/installation-cache.js';

/** Everything a job processor may use; built once per process in start.ts. */
export interface WorkerDeps {
  readonly config: WorkerConfig;
  readonly db: Kysely<Database>;
  readonly queues: Queues;
  /** The producer connection (queues share it): small writes such as the stored-token registry. */
  readonly redis: Redis;
  readonly keyring: Keyring;
  readonly limiter: RateLimiter;
  /** Installations and their webhook token hashes, re-checked by every claim (see its docs). */
  readonly installations: InstallationCache;
  /** Group commit of webhook deliveries; absent when WEBHOOK_COMMIT_GROUP_MAX is 1. */
  readonly deliveryGroups?: DeliveryGroups;
  readonly addon: RegisteredAddon;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The clock; tests replace it to reach retention and purge dates. */
  readonly now: () => Date;
  /** Fires when the process starts shutting down: long jobs hand themselves back to the queue. */
  readonly stopping?: AbortSignal;
}
