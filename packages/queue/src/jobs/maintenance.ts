import { z } from 'zod';
import { DAY, defineQueueContract, id, scheduledPayload } from './contract.js';

export const retentionPayload = scheduledPayload();
export const reconcilePayload = scheduledPayload();
export const webhookHealthPayload = scheduledPayload();
export const deadLetterSweepPayload = scheduledPayload();
export const purgeInstallationPayload = z.object({
  v: z.literal(1),
  workspaceId: id,
  addonId: id,
  /** Sequence of the DELETED event that scheduled the purge. */
  seq: z.number().int().positive(),
});
export type PurgeInstallationPayload = z.infer<typeof purgeInstallationPayload>;

export const MAINTENANCE_JOBS = {
  retention: 'maintenance.retention',
  reconcile: 'maintenance.reconcile',
  purgeInstallation: 'maintenance.purge-installation',
  /** Asks Clockify whether each installation's webhooks are still delivered (deliveryEnabled). */
  webhookHealth: 'maintenance.webhook-health',
  /** Moves failed jobs into `dead_letters` (those whose dead letter could not be written then). */
  deadLetterSweep: 'maintenance.dead-letter-sweep',
} as const;

/** Scheduler ids (BullMQ Job Schedulers) of the scheduled jobs, also a wire format. */
export const SCHEDULERS = {
  retention: 'retention',
  reconcile: 'reconcile',
  webhookHealth: 'webhook-health',
  deadLetterSweep: 'dead-letter-sweep',
} as const;

/** The maintenance queue: the scheduled jobs and the purge of an uninstalled installation. */
export const maintenanceContract = defineQueueContract({
  queue: 'maintenance',
  defaults: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 10_000, jitter: 0.5 },
    removeOnComplete: { age: 7 * DAY, count: 1_000 },
    removeOnFail: { age: 30 * DAY, count: 10_000 },
  },
  jobs: {
    [MAINTENANCE_JOBS.retention]: retentionPayload,
    [MAINTENANCE_JOBS.reconcile]: reconcilePayload,
    [MAINTENANCE_JOBS.purgeInstallation]: purgeInstallationPayload,
    [MAINTENANCE_JOBS.webhookHealth]: webhookHealthPayload,
    [MAINTENANCE_JOBS.deadLetterSweep]: deadLetterSweepPayload,
  },
});
