import { z } from 'zod';
import { DAY, HOUR, defineQueueContract, id, sha256Hex } from './contract.js';

export const webhookPayload = z.object({
  v: z.literal(1),
  /** Clockify event name, e.g. NEW_TIME_ENTRY. */
  event: z.string().regex(/^[A-Z_]{3,64}$/),
  workspaceId: id,
  addonId: id.optional(),
  /** SHA-256 over the content (workspace, event, token hash, raw body) and, for entity events, the content accepted before it. */
  deliveryKey: sha256Hex,
  /**
   * The order of this delivery among the accepted deliveries of the entity its body names (entity
   * events): the worker applies an entity's changes by it, whatever order the jobs finish in.
   */
  entitySeq: z.number().int().positive().optional(),
  /** Start of the dedupe window (epoch ms) the delivery falls in. */
  windowStart: z.number().int().nonnegative(),
  windowSeconds: z.number().int().positive(),
  receivedAt: z.number().int().positive(),
  /** SHA-256 of the `clockify-signature` token, compared with the stored per-webhook token. */
  tokenHash: sha256Hex,
  verified: z.boolean(),
  /** The raw JSON body as received. */
  body: z.string(),
  requestId: z.string().max(128).optional(),
});
export type WebhookPayload = z.infer<typeof webhookPayload>;

export const WEBHOOK_JOBS = { webhookProcess: 'webhook.process' } as const;

/**
 * The webhook queue: one job per accepted delivery. The webhook route adds its jobs with a BullMQ
 * priority (the workspace's fair turn, `apps/ingress/src/fairness.ts`); the worker's retry policy
 * (`WEBHOOK_MAX_ATTEMPTS`, `WEBHOOK_BACKOFF_MS`) overrides `attempts` and `backoff` at start.
 */
export const webhooksContract = defineQueueContract({
  queue: 'webhooks',
  defaults: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
    removeOnComplete: { age: HOUR, count: 5_000 },
    removeOnFail: { age: 14 * DAY, count: 100_000 },
  },
  jobs: { [WEBHOOK_JOBS.webhookProcess]: webhookPayload },
});
