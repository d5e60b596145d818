import { z } from 'zod';
import { DAY, defineQueueContract, id } from './contract.js';

export const bootstrapTriggers = ['install', 'manual', 'reconcile'] as const;

export const bootstrapStartPayload = z.object({
  v: z.literal(1),
  workspaceId: id,
  addonId: id,
  trigger: z.enum(bootstrapTriggers),
});
export type BootstrapStartPayload = z.infer<typeof bootstrapStartPayload>;

export const bootstrapResourcePayload = z.object({
  v: z.literal(1),
  runId: z.uuid(),
  workspaceId: id,
  addonId: id,
  resource: z.string().min(1).max(64),
});
export type BootstrapResourcePayload = z.infer<typeof bootstrapResourcePayload>;

export const BOOTSTRAP_JOBS = { bootstrapStart: 'bootstrap.start', bootstrapResource: 'bootstrap.resource' } as const;

/** The bootstrap queue: a run's start, then one job per resource (and per parent, for child resources). */
export const bootstrapContract = defineQueueContract({
  queue: 'bootstrap',
  defaults: {
    attempts: 12,
    backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
    removeOnComplete: { age: DAY, count: 5_000 },
    removeOnFail: { age: 30 * DAY, count: 50_000 },
  },
  jobs: {
    [BOOTSTRAP_JOBS.bootstrapStart]: bootstrapStartPayload,
    [BOOTSTRAP_JOBS.bootstrapResource]: bootstrapResourcePayload,
  },
});
