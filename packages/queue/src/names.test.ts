import { describe, expect, it } from 'vitest';
import { JOB_QUEUE, JOBS, QUEUE_NAMES, QUEUES, SCHEDULERS } from './names.js';
import { bootstrapTriggers, JOB_PAYLOADS, LIFECYCLE_JOB, lifecycleTypes } from './payloads.js';
import { DEFAULT_JOB_OPTIONS } from './options.js';

/**
 * These strings are a wire format: jobs already in Redis, Bull Board and dashboards find them by
 * name. The literals below are copied on purpose; a rename must fail here and come with a
 * migration that drains the old name first.
 */
describe('wire names', () => {
  it('queue names are exactly the published ones', () => {
    expect(QUEUES).toStrictEqual({
      lifecycle: 'lifecycle',
      webhooks: 'webhooks',
      bootstrap: 'bootstrap',
      maintenance: 'maintenance',
    });
    expect([...QUEUE_NAMES].sort()).toStrictEqual(['bootstrap', 'lifecycle', 'maintenance', 'webhooks']);
  });

  it('job names are exactly the published ones', () => {
    expect(JOBS).toStrictEqual({
      lifecycleInstalled: 'lifecycle.installed',
      lifecycleDeleted: 'lifecycle.deleted',
      lifecycleSettingsUpdated: 'lifecycle.settings-updated',
      lifecycleStatusChanged: 'lifecycle.status-changed',
      lifecycleLoadSettings: 'lifecycle.load-settings',
      webhookProcess: 'webhook.process',
      bootstrapStart: 'bootstrap.start',
      bootstrapResource: 'bootstrap.resource',
      retention: 'maintenance.retention',
      reconcile: 'maintenance.reconcile',
      purgeInstallation: 'maintenance.purge-installation',
      webhookHealth: 'maintenance.webhook-health',
      deadLetterSweep: 'maintenance.dead-letter-sweep',
    });
  });

  it('scheduler ids are exactly the published ones', () => {
    expect(SCHEDULERS).toStrictEqual({
      retention: 'retention',
      reconcile: 'reconcile',
      webhookHealth: 'webhook-health',
      deadLetterSweep: 'dead-letter-sweep',
    });
  });

  it('each job is carried by exactly one, pinned, queue', () => {
    expect(JOB_QUEUE).toStrictEqual({
      'lifecycle.installed': 'lifecycle',
      'lifecycle.deleted': 'lifecycle',
      'lifecycle.settings-updated': 'lifecycle',
      'lifecycle.status-changed': 'lifecycle',
      'lifecycle.load-settings': 'lifecycle',
      'webhook.process': 'webhooks',
      'bootstrap.start': 'bootstrap',
      'bootstrap.resource': 'bootstrap',
      'maintenance.retention': 'maintenance',
      'maintenance.webhook-health': 'maintenance',
      'maintenance.dead-letter-sweep': 'maintenance',
      'maintenance.reconcile': 'maintenance',
      'maintenance.purge-installation': 'maintenance',
    });
    // Every job name has a queue, no entry names an unknown job or queue, and no job name repeats.
    const jobNames = Object.values(JOBS);
    expect(new Set(jobNames).size).toBe(jobNames.length);
    expect(Object.keys(JOB_QUEUE).sort()).toStrictEqual([...jobNames].sort());
    for (const queue of Object.values(JOB_QUEUE)) expect(QUEUE_NAMES).toContain(queue);
    // Every queue carries at least one job.
    expect(new Set(Object.values(JOB_QUEUE))).toStrictEqual(new Set(QUEUE_NAMES));
  });

  it('every job has a payload schema and every queue has default options', () => {
    expect(Object.keys(JOB_PAYLOADS).sort()).toStrictEqual(Object.values(JOBS).sort());
    expect(Object.keys(DEFAULT_JOB_OPTIONS).sort()).toStrictEqual([...QUEUE_NAMES].sort());
  });

  it('lifecycle types and bootstrap triggers, stored in payloads, are pinned', () => {
    expect(lifecycleTypes).toStrictEqual(['INSTALLED', 'DELETED', 'SETTINGS_UPDATED', 'STATUS_CHANGED']);
    expect(bootstrapTriggers).toStrictEqual(['install', 'manual', 'reconcile']);
    expect(LIFECYCLE_JOB).toStrictEqual({
      INSTALLED: 'lifecycle.installed',
      DELETED: 'lifecycle.deleted',
      SETTINGS_UPDATED: 'lifecycle.settings-updated',
      STATUS_CHANGED: 'lifecycle.status-changed',
    });
  });
});
