import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEntity, migrateToLatest, openDatabase, type DatabaseHandle } from '@cap/db';
import { Metrics, type Logger } from '@cap/observability';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import { PendingMirrorWrites, refusedMirrorWrites } from '../src/runtime.js';

let testDb: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  testDb = await createTestDatabase('mirror_writes');
  handle = await openDatabase({ url: testDb.url, dataDir: '/unused', poolMax: 2 });
  await migrateToLatest(handle.db);
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

/** A logger that records what it was asked to log. */
function recordingLogger() {
  const lines: { level: string; fields: unknown; message: string }[] = [];
  const at =
    (level: string) =>
    (fields: unknown, message: string): void => {
      lines.push({ level, fields, message });
    };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger;
  return { lines, logger };
}

describe('PendingMirrorWrites (ctx.mirror)', () => {
  it('keeps the writes of several handlers until apply, then writes them in the transaction', async () => {
    const pending = new PendingMirrorWrites();
    const { logger } = recordingLogger();
    const one = pending.writer({ workspaceId: 'ws-pending-1', event: 'NEW_TAG', log: () => logger });
    const two = pending.writer({ workspaceId: 'ws-pending-2', event: 'CLIENT_DELETED', log: () => logger });
    one.mirror.created('tag', 't1', { id: 't1' });
    two.mirror.deleted('client', 'c1', { id: 'c1' });
    one.close();
    two.close();
    expect(pending.size).toBe(2);
    expect(await getEntity(handle.db, { workspaceId: 'ws-pending-1', entityType: 'tag', entityId: 't1' })).toBe(
      undefined,
    );
    await handle.db.transaction().execute((tx) => pending.apply(tx));
    expect(pending.size).toBe(0);
    expect(
      await getEntity(handle.db, { workspaceId: 'ws-pending-1', entityType: 'tag', entityId: 't1' }),
    ).toMatchObject({ last_event: 'NEW_TAG', deleted: false });
    expect(
      await getEntity(handle.db, { workspaceId: 'ws-pending-2', entityType: 'client', entityId: 'c1' }),
    ).toMatchObject({ last_event: 'CLIENT_DELETED', deleted: true });
  });

  it('counts a refused write and logs it with the logger of the delivery that made it', async () => {
    const metrics = new Metrics({ app: 'test', defaultMetrics: false });
    const pending = new PendingMirrorWrites(refusedMirrorWrites(metrics));
    const first = recordingLogger();
    const second = recordingLogger();
    const a = pending.writer({ workspaceId: 'ws-pending-3', event: 'TAG_DELETED', log: () => first.logger });
    const b = pending.writer({ workspaceId: 'ws-pending-3', event: 'TAG_UPDATED', log: () => second.logger });
    const c = pending.writer({ workspaceId: 'ws-pending-3', event: 'NEW_TAG', log: () => second.logger });
    a.mirror.deleted('tag', 't9', { id: 't9' });
    b.mirror.updated('tag', 't9', { id: 't9', name: 'late' });
    c.mirror.created('tag', 't9', { id: 't9' });
    await handle.db.transaction().execute((tx) => pending.apply(tx));
    expect(first.lines).toEqual([]);
    expect(second.lines).toEqual([
      {
        level: 'debug',
        fields: { event: 'TAG_UPDATED', entityType: 'tag', entityId: 't9' },
        message: 'entity was deleted earlier or changed by a later delivery; late update ignored',
      },
      {
        level: 'debug',
        fields: { event: 'NEW_TAG', entityType: 'tag', entityId: 't9' },
        message: 'a later change arrived first; creation ignored',
      },
    ]);
    const counted = (await metrics.registry.getSingleMetric('mirror_writes_refused_total')!.get()).values;
    expect(counted.map((v) => [v.labels.change, v.value]).sort()).toEqual([
      ['created', 1],
      ['updated', 1],
    ]);
  });

  it('refuses bad arguments at the call, and a write after the handler returned', () => {
    const pending = new PendingMirrorWrites();
    const { logger } = recordingLogger();
    const { mirror, close } = pending.writer({ workspaceId: 'ws', event: 'NEW_TAG', log: () => logger });
    expect(() => mirror.created('', 'id', {})).toThrow(/entityType must be a non-empty string/);
    expect(() => mirror.updated('tag', undefined as unknown as string, {})).toThrow(/entityId must be/);
    expect(() => mirror.deleted('tag', 'id', [] as unknown as Record<string, unknown>)).toThrow(
      /data must be an object/,
    );
    close();
    expect(() => mirror.created('tag', 'id', {})).toThrow(/after the handler returned/);
    expect(pending.size).toBe(0);
  });
});
