import type { DefaultJobOptions } from 'bullmq';
import { z } from 'zod';

/**
 * The contract half of one queue, shared by everything that enqueues (ingress, worker, CLI) and
 * the worker that consumes it: the queue's name, its default job options, and each job's name
 * and payload schema. The worker binds a processor and an exhaustion handler to every job of it
 * (`apps/worker/src/<domain>/queue.ts`), checked exhaustive by the type system. The two halves
 * live apart only so that enqueueing never loads worker code.
 *
 * Queue and job names are a wire format: jobs already in Redis are found by these strings, and
 * Bull Board and dashboards show them. Never rename one without a migration that drains the old
 * name first; add new names instead.
 */
export interface QueueContract<
  Q extends string = string,
  J extends Record<string, z.ZodType> = Record<string, z.ZodType>,
> {
  readonly queue: Q;
  /** Retries with exponential backoff and jitter, bounded completed and failed job lists. */
  readonly defaults: DefaultJobOptions;
  /** Each job's name and the schema of its payload. */
  readonly jobs: J;
}

/** Checks at load time that each job name is `<domain>.<name>`, the convention dashboards group by. */
export function defineQueueContract<const Q extends string, const J extends Record<string, z.ZodType>>(
  contract: QueueContract<Q, J>,
): QueueContract<Q, J> {
  for (const name of Object.keys(contract.jobs)) {
    if (!/^[a-z]+\.[a-z-]+$/.test(name)) throw new Error(`job name ${name} is not <domain>.<name>`);
  }
  return contract;
}

export const HOUR = 3600;
export const DAY = 24 * HOUR;

/*
 * Schema parts shared by the payloads. Jobs outlive deployments, so a field added later must be
 * optional; `v` lets a processor tell old shapes apart if a breaking change is ever needed. No
 * payload ever holds a token in the clear: tokens are AES-GCM ciphertexts (`enc:v2:…`) or SHA-256
 * hashes.
 */

/** `enc:v2:<keyId>:<iv>:<ciphertext>:<tag>` as the keyring writes it (base64url parts; v1 from before). */
export const ciphertext = z
  .string()
  .max(16_384)
  .regex(/^enc:v[12]:[A-Za-z0-9_-]+(?::[A-Za-z0-9_-]+){3}$/, 'must be an encrypted token');
export const id = z.string().min(1).max(128);
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
/** The payload of a scheduled job: nothing but the version. */
export const scheduledPayload = () => z.object({ v: z.literal(1) }).loose();
