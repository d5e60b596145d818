import type { DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { checkRedisDurability } from './connections.js';
import { QUEUE_NAMES, type QueueName } from './names.js';
import { DEFAULT_JOB_OPTIONS } from './options.js';
import { jobOptionsFor } from './queues.js';

type KeepJobs = { age: number; count: number };

function keep(value: DefaultJobOptions['removeOnComplete']): KeepJobs {
  expect(value, 'a bounded { age, count }, never true/false/a bare number').toMatchObject({
    age: expect.any(Number),
    count: expect.any(Number),
  });
  return value as KeepJobs;
}

describe('DEFAULT_JOB_OPTIONS', () => {
  it.each(QUEUE_NAMES)('%s: retries with exponential backoff and jitter', (name) => {
    const opts = DEFAULT_JOB_OPTIONS[name];
    expect(Number.isInteger(opts.attempts)).toBe(true);
    expect(opts.attempts).toBeGreaterThanOrEqual(1);
    expect(opts.backoff).toMatchObject({ type: 'exponential' });
    const backoff = opts.backoff as { delay: number; jitter: number };
    expect(backoff.delay).toBeGreaterThan(0);
    expect(backoff.jitter).toBeGreaterThan(0);
    expect(backoff.jitter).toBeLessThanOrEqual(1);
  });

  it.each(QUEUE_NAMES)('%s: keeps a bounded number of completed jobs, failed ones longer', (name) => {
    const opts = DEFAULT_JOB_OPTIONS[name];
    const done = keep(opts.removeOnComplete);
    const failed = keep(opts.removeOnFail);
    for (const k of [done, failed]) {
      expect(k.age).toBeGreaterThan(0);
      expect(k.count).toBeGreaterThan(0);
      expect(Number.isFinite(k.count)).toBe(true);
    }
    expect(failed.age).toBeGreaterThan(done.age);
    expect(failed.count).toBeGreaterThan(done.count);
  });

  it('pins the current values (a change here is a deliberate operational change)', () => {
    const HOUR = 3600;
    const DAY = 24 * HOUR;
    expect(DEFAULT_JOB_OPTIONS).toStrictEqual({
      lifecycle: {
        attempts: 10,
        backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
        removeOnComplete: { age: DAY, count: 10_000 },
        removeOnFail: { age: 30 * DAY, count: 100_000 },
      },
      webhooks: {
        attempts: 8,
        backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
        removeOnComplete: { age: HOUR, count: 5_000 },
        removeOnFail: { age: 14 * DAY, count: 100_000 },
      },
      bootstrap: {
        attempts: 12,
        backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
        removeOnComplete: { age: DAY, count: 5_000 },
        removeOnFail: { age: 30 * DAY, count: 50_000 },
      },
      maintenance: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 10_000, jitter: 0.5 },
        removeOnComplete: { age: 7 * DAY, count: 1_000 },
        removeOnFail: { age: 30 * DAY, count: 10_000 },
      },
    });
  });
});

describe('jobOptionsFor', () => {
  const policy = { webhookAttempts: 3, webhookBackoffMs: 250 };

  it('returns the defaults when no policy is given', () => {
    for (const name of QUEUE_NAMES) expect(jobOptionsFor(name)).toStrictEqual(DEFAULT_JOB_OPTIONS[name]);
  });

  it('applies the webhook retry policy to the webhooks queue only', () => {
    expect(jobOptionsFor('webhooks', policy)).toStrictEqual({
      ...DEFAULT_JOB_OPTIONS.webhooks,
      attempts: 3,
      backoff: { type: 'exponential', delay: 250, jitter: 0.5 },
    });
    for (const name of QUEUE_NAMES.filter((n): n is Exclude<QueueName, 'webhooks'> => n !== 'webhooks')) {
      expect(jobOptionsFor(name, policy)).toStrictEqual(DEFAULT_JOB_OPTIONS[name]);
    }
  });

  it('overrides attempts and backoff independently', () => {
    expect(jobOptionsFor('webhooks', { webhookAttempts: 2 })).toStrictEqual({
      ...DEFAULT_JOB_OPTIONS.webhooks,
      attempts: 2,
    });
    expect(jobOptionsFor('webhooks', { webhookBackoffMs: 500 })).toStrictEqual({
      ...DEFAULT_JOB_OPTIONS.webhooks,
      backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
    });
  });

  it('never mutates the shared defaults', () => {
    const before = structuredClone(DEFAULT_JOB_OPTIONS);
    jobOptionsFor('webhooks', policy);
    expect(DEFAULT_JOB_OPTIONS).toStrictEqual(before);
  });
});

/** A stand-in client answering INFO with the given fields (CRLF, like Redis). */
function infoClient(fields: Record<string, string>): Redis {
  const text = [
    '# Server',
    'redis_version:7.2.4',
    '# Memory',
    ...Object.entries(fields).map(([k, v]) => `${k}:${v}`),
    '',
  ].join('\r\n');
  return { info: async () => text } as unknown as Redis;
}

describe('checkRedisDurability (INFO parsing)', () => {
  it('is silent for noeviction with AOF on', async () => {
    expect(await checkRedisDurability(infoClient({ maxmemory_policy: 'noeviction', aof_enabled: '1' }))).toEqual([]);
  });

  it('warns about an evicting policy and about AOF off', async () => {
    const warnings = await checkRedisDurability(infoClient({ maxmemory_policy: 'allkeys-lru', aof_enabled: '0' }));
    expect(warnings.map(({ setting, value }) => ({ setting, value }))).toEqual([
      { setting: 'maxmemory-policy', value: 'allkeys-lru' },
      { setting: 'appendonly', value: 'no' },
    ]);
    expect(warnings[0]!.advice).toMatch(/noeviction/);
    expect(warnings[1]!.advice).toMatch(/appendonly yes/);
  });

  it('warns for each setting on its own', async () => {
    const policyOnly = await checkRedisDurability(infoClient({ maxmemory_policy: 'volatile-lru', aof_enabled: '1' }));
    expect(policyOnly.map((w) => w.setting)).toEqual(['maxmemory-policy']);
    const aofOnly = await checkRedisDurability(infoClient({ maxmemory_policy: 'noeviction', aof_enabled: '0' }));
    expect(aofOnly.map((w) => w.setting)).toEqual(['appendonly']);
  });

  it('does not guess when INFO hides a field (managed Redis)', async () => {
    expect(await checkRedisDurability(infoClient({}))).toEqual([]);
  });
});
