import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBootstrapRun, getBootstrapRun, listApiCalls, recordApiCall, sql } from '@cap/db';
import { JOBS } from '@cap/queue';
import { waitFor } from '@cap/testing';
import { resourceJobId, STRANDED_AFTER_MS } from '../src/bootstrap/runs.js';
import type { RetentionReport } from '../src/maintenance/jobs.js';
import { startStack, type Stack } from './stack.js';

const DAY_MS = 86_400_000;
let s: Stack;
let offsetMs = 0;
let addonId: string;

beforeAll(async () => {
  s = await startStack({
    sizes: { users: 2, projects: 2, tasksPerProject: 1, tags: 2, clients: 1, entries: 4 },
    workerEnv: { AUTO_BOOTSTRAP: 'false', WEBHOOK_EVENT_RETENTION_DAYS: '3' },
    now: () => new Date(Date.now() + offsetMs),
  });
  ({ addonId } = await s.installAndWait());
});
afterAll(async () => {
  await s?.close();
});

async function retention(jobId: string): Promise<RetentionReport> {
  const maintenance = s.ingress.context.queues.maintenance;
  await maintenance.add(JOBS.retention, { v: 1 }, { jobId });
  const job = await waitFor(
    async () => {
      const j = await maintenance.getJob(jobId);
      return j?.finishedOn ? j : undefined;
    },
    { message: `retention ${jobId}` },
  );
  expect(job.failedReason).toBeUndefined();
  return job.returnvalue as RetentionReport;
}

/** Rows and the partition holding today's deliveries. */
async function todays(entityId: string) {
  const db = s.ingress.context.database.db;
  const rows = await db
    .selectFrom('webhook_events')
    .select(sql<string>`tableoid::regclass::text`.as('partition'))
    .where('entity_id', '=', entityId)
    .execute();
  return rows;
}

describe('retention of delivery records', () => {
  it('drops day partitions older than WEBHOOK_EVENT_RETENTION_DAYS, keeps newer ones, and makes the coming days', async () => {
    const tag = { ...s.sim.buildWebhook('NEW_TAG'), id: '3'.repeat(24) };
    await s.sim.sendWebhook('NEW_TAG', tag);
    const [row] = await waitFor(async () => {
      const r = await todays(tag.id as string);
      return r.length === 1 ? r : undefined;
    });
    const partition = row!.partition.replace(/^.*\./, '');

    // Two days later the record is inside the 3-day retention: kept.
    offsetMs = 2 * DAY_MS;
    const early = await retention('retention-early');
    expect(early.partitionsDropped.map((p) => p.name)).not.toContain(partition);
    expect(await todays(tag.id as string)).toHaveLength(1);
    // The partitions for the days ahead of the (moved) clock exist already.
    expect(early.partitionsCreated.length).toBeGreaterThan(0);

    // Four days later its whole day is past the cutoff: the partition goes, with the record.
    offsetMs = 4 * DAY_MS + 60_000;
    const late = await retention('retention-late');
    const dropped = late.partitionsDropped.find((p) => p.name.replace(/^.*\./, '') === partition);
    expect(dropped, JSON.stringify(late.partitionsDropped)).toBeDefined();
    expect(dropped!.rows).toBeGreaterThanOrEqual(1);
    expect(await todays(tag.id as string)).toEqual([]);
    offsetMs = 0;
  });
});

describe('retention of recorded API calls', () => {
  it('deletes api_call_audit rows older than API_CALL_AUDIT_RETENTION_DAYS (90) and keeps newer ones', async () => {
    const db = s.ingress.context.database.db;
    const call = (operationId: string) => ({
      actorKind: 'admin' as const,
      actor: 'ops',
      workspaceId: s.workspaceId,
      operationId,
      method: 'GET',
      pathTemplate: '/v1/workspaces/{workspaceId}/tags',
      outcome: 'ok' as const,
      status: 200,
      request: {},
    });
    const old = await recordApiCall(db, call('oldCall'));
    await recordApiCall(db, call('recentCall'));
    await db
      .updateTable('api_call_audit')
      .set({ called_at: new Date(Date.now() - 91 * DAY_MS) })
      .where('id', '=', Number(old))
      .execute();
    const report = await retention('retention-audit');
    expect(report.apiCallsDeleted).toBe(1);
    const left = (await listApiCalls(db, { workspaceId: s.workspaceId })).map((r) => r.operation_id);
    expect(left).toContain('recentCall');
    expect(left).not.toContain('oldCall');
  });
});

describe('retention of stranded bootstrap runs', () => {
  it('ends an active run no job will move again (after a while without progress), and keeps one with a job waiting', async () => {
    const db = s.ingress.context.database.db;
    const key = { workspaceId: s.workspaceId, addonId };
    const newRun = () =>
      db
        .transaction()
        .execute((tx) =>
          createBootstrapRun(tx, { ...key, trigger: 'manual', jobId: 'lost-start', resources: ['users', 'tags'] }),
        );

    // Its jobs are gone (as if Redis lost them): nothing will ever finish it.
    const stranded = (await newRun())!;
    offsetMs = STRANDED_AFTER_MS - 60_000;
    expect((await retention('stranded-too-early')).strandedRunsEnded).toEqual([]);
    offsetMs = STRANDED_AFTER_MS + 60_000;
    expect((await retention('stranded-ended')).strandedRunsEnded).toEqual([stranded.id]);
    const ended = await getBootstrapRun(db, stranded.id);
    expect(ended?.status).toBe('FAILED');

    // A run with a job still waiting in the queue (here delayed) is left alone.
    const waiting = (await newRun())!;
    const bootstrap = s.ingress.context.queues.bootstrap;
    await bootstrap.add(
      JOBS.bootstrapResource,
      { v: 1, runId: waiting.id, ...key, resource: 'users' },
      { jobId: resourceJobId(waiting.id, 'users'), delay: 3_600_000 },
    );
    try {
      expect((await retention('stranded-kept')).strandedRunsEnded).toEqual([]);
      expect((await getBootstrapRun(db, waiting.id))?.status).toBe('RUNNING');
    } finally {
      await bootstrap.remove(resourceJobId(waiting.id, 'users'));
      offsetMs = 0;
    }
  });
});
