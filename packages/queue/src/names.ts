/**
 * Queue and job names are a wire format: jobs already in Redis are found by these strings, and
 * Bull Board and dashboards show them. Never rename one without a migration that drains the old
 * name first; add new names instead.
 */
export const QUEUES = {
  lifecycle: 'lifecycle',
  webhooks: 'webhooks',
  bootstrap: 'bootstrap',
  maintenance: 'maintenance',
} as const;

export type QueueKey = keyof typeof QUEUES;
export type QueueName = (typeof QUEUES)[QueueKey];
export const QUEUE_NAMES: readonly QueueName[] = Object.values(QUEUES);

export const JOBS = {
  lifecycleInstalled: 'lifecycle.installed',
  lifecycleDeleted: 'lifecycle.deleted',
  lifecycleSettingsUpdated: 'lifecycle.settings-updated',
  lifecycleStatusChanged: 'lifecycle.status-changed',
  /** After INSTALLED: read the installation's settings from Clockify (its stored defaults). */
  lifecycleLoadSettings: 'lifecycle.load-settings',
  webhookProcess: 'webhook.process',
  bootstrapStart: 'bootstrap.start',
  bootstrapResource: 'bootstrap.resource',
  retention: 'maintenance.retention',
  reconcile: 'maintenance.reconcile',
  purgeInstallation: 'maintenance.purge-installation',
  /** Asks Clockify whether each installation's webhooks are still delivered (deliveryEnabled). */
  webhookHealth: 'maintenance.webhook-health',
  /** Moves failed jobs into `dead_letters` (those whose dead letter could not be written then). */
  deadLetterSweep: 'maintenance.dead-letter-sweep',
} as const;

export type JobName = (typeof JOBS)[keyof typeof JOBS];

/** Which queue carries which job. */
export const JOB_QUEUE: Readonly<Record<JobName, QueueName>> = {
  'lifecycle.installed': 'lifecycle',
  'lifecycle.deleted': 'lifecycle',
  'lifecycle.settings-updated': 'lifecycle',
  'lifecycle.status-changed': 'lifecycle',
  'lifecycle.load-settings': 'lifecycle',
  'webhook.process': 'webhooks',
  'bootstrap.start': 'bootstrap',
  'bootstrap.resource': 'bootstrap',
  'maintenance.retention': 'maintenance',
  'maintenance.reconcile': 'maintenance',
  'maintenance.purge-installation': 'maintenance',
  'maintenance.webhook-health': 'maintenance',
  'maintenance.dead-letter-sweep': 'maintenance',
};

/** Scheduler ids (BullMQ Job Schedulers), also a wire format. */
export const SCHEDULERS = {
  retention: 'retention',
  reconcile: 'reconcile',
  webhookHealth: 'webhook-health',
  deadLetterSweep: 'dead-letter-sweep',
} as const;
