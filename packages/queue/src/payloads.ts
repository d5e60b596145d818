import type { z } from 'zod';
import { QUEUE_CONTRACTS } from './jobs/index.js';
import type { JobName } from './names.js';

export * from './jobs/index.js';

type Contracts = typeof QUEUE_CONTRACTS;
type AllJobs = { [K in keyof Contracts]: Contracts[K]['jobs'] }[keyof Contracts];
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every job's payload schema, read from the queue contracts (`jobs/`). */
export const JOB_PAYLOADS = Object.assign(
  {},
  ...Object.values(QUEUE_CONTRACTS).map((c) => c.jobs),
) as UnionToIntersection<AllJobs> satisfies Record<JobName, z.ZodType>;

export type JobPayload<N extends JobName> = z.infer<(typeof JOB_PAYLOADS)[N]>;

/** Validates a payload read from a job; throws a readable error naming the job. */
export function parsePayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  const schema = JOB_PAYLOADS[name] as unknown as z.ZodType<JobPayload<N>>;
  const result = schema.safeParse(data);
  if (!result.success) {
    const detail = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new InvalidPayloadError(`invalid ${name} payload: ${detail}`);
  }
  return result.data;
}

export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';
}
