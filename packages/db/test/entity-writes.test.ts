import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import {
  MAX_ENTITY_WRITES_PER_STATEMENT,
  applyEntityWrites,
  getEntity,
  listEntities,
  migrateToLatest,
  openDatabase,
  type DatabaseHandle,
  type EntityChange,
  type EntityWrite,
} from '../src/index.js';

let testDb: TestDatabase;
let h: DatabaseHandle;
let n = 0;

beforeAll(async () => {
  testDb = await createTestDatabase('entity_writes');
  h = await openDatabase({ url: testDb.url, dataDir: '/unused' });
  await migrateToLatest(h.db);
});
afterAll(async () => {
  await h?.close();
  await testDb?.drop();
});

/** A workspace of its own per test. */
function workspace() {
  const workspaceId = `ws-writes-${++n}`;
  const write = (change: EntityChange, entityId: string, data: Record<string, unknown>, event = 'TAG_UPDATED') =>
    ({ workspaceId, entityType: 'tag', entityId, change, data, event }) satisfies EntityWrite;
  return { workspaceId, write };
}

describe('applyEntityWrites (the mirror writes of a transaction, in one statement where it can)', () => {
  it('applies creations, updates and deletions of different entities together', async () => {
    const { workspaceId, write } = workspace();
    expect(
      await applyEntityWrites(h.db, [
        write('created', 'a', { id: 'a', name: 'A' }, 'NEW_TAG'),
        write('updated', 'b', { id: 'b', name: 'B' }),
        write('deleted', 'c', { id: 'c' }, 'TAG_DELETED'),
      ]),
    ).toEqual([]);
    const rows = await listEntities(h.db, workspaceId, 'tag', { includeDeleted: true });
    expect(rows.map((r) => [r.entity_id, r.data, r.deleted, r.source, r.last_event])).toEqual([
      ['a', { id: 'a', name: 'A' }, false, 'webhook', 'NEW_TAG'],
      ['b', { id: 'b', name: 'B' }, false, 'webhook', 'TAG_UPDATED'],
      ['c', { id: 'c' }, true, 'webhook', 'TAG_DELETED'],
    ]);
  });

  it('merges a partial body into the stored copy, keeps what it lacks, and never revives a tombstone', async () => {
    const { workspaceId, write } = workspace();
    const full = { id: 'u', name: 'Ann', email: 'a@x', status: 'ACTIVE', memberships: [{ targetId: 'w' }] };
    await applyEntityWrites(h.db, [write('updated', 'u', full)]);
    const gone = write('merged', 'n', { id: 'n', name: 'new' });
    const refused = await applyEntityWrites(h.db, [
      write('merged', 'u', { id: 'u', name: 'Ann B', email: 'b@x' }),
      gone,
      write('deleted', 'd', { id: 'd' }, 'TAG_DELETED'),
    ]);
    expect(refused).toEqual([]);
    const key = { workspaceId, entityType: 'tag' };
    expect((await getEntity(h.db, { ...key, entityId: 'u' }))?.data).toEqual({ ...full, name: 'Ann B', email: 'b@x' });
    // Nothing stored yet: the partial body is all there is.
    expect((await getEntity(h.db, { ...key, entityId: 'n' }))?.data).toEqual({ id: 'n', name: 'new' });
    const late = write('merged', 'd', { id: 'd', name: 'late' });
    expect(await applyEntityWrites(h.db, [late])).toEqual([late]);
    expect(await getEntity(h.db, { ...key, entityId: 'd' })).toMatchObject({ deleted: true, data: { id: 'd' } });
  });

  it('orders an entity’s sequenced changes by their sequence, whatever order they are applied in', async () => {
    const { workspaceId, write } = workspace();
    const at = (change: EntityChange, name: string, seq?: number) => ({
      ...write(change, 's', { id: 's', name }),
      ...(seq !== undefined ? { seq } : {}),
    });
    // B (seq 2) committed first; A (seq 1) finishing later is refused, A again (seq 3) applies.
    expect(await applyEntityWrites(h.db, [at('updated', 'B', 2)])).toEqual([]);
    const stale = at('updated', 'A', 1);
    expect(await applyEntityWrites(h.db, [stale])).toEqual([stale]);
    const staleMerge = at('merged', 'A', 1);
    expect(await applyEntityWrites(h.db, [staleMerge])).toEqual([staleMerge]);
    expect(await applyEntityWrites(h.db, [at('updated', 'A', 3)])).toEqual([]);
    // A write without a sequence (about another entity than its delivery's) is not ordered.
    expect(await applyEntityWrites(h.db, [at('merged', 'C')])).toEqual([]);
    expect(await getEntity(h.db, { workspaceId, entityType: 'tag', entityId: 's' })).toMatchObject({
      data: { id: 's', name: 'C' },
      webhook_seq: 3,
    });
  });

  it('applies the same entity several times in order, and returns the writes their rule refused', async () => {
    const { workspaceId, write } = workspace();
    const lateCreation = write('created', 'x', { id: 'x', name: 'late creation' }, 'NEW_TAG');
    const lateUpdate = write('updated', 'x', { id: 'x', name: 'after delete' });
    const refused = await applyEntityWrites(h.db, [
      write('updated', 'x', { id: 'x', name: 'one' }),
      lateCreation, // a copy exists: a later change overtook the creation
      write('updated', 'x', { id: 'x', name: 'two' }),
      write('deleted', 'x', { id: 'x' }, 'TAG_DELETED'),
      lateUpdate, // a tombstone wins
      write('created', 'y', { id: 'y' }, 'NEW_TAG'),
    ]);
    expect(refused).toEqual([lateCreation, lateUpdate]);
    const x = await getEntity(h.db, { workspaceId, entityType: 'tag', entityId: 'x' });
    // The tombstone keeps the last live data.
    expect(x).toMatchObject({ deleted: true, data: { id: 'x', name: 'two' }, last_event: 'TAG_DELETED' });
    expect(await getEntity(h.db, { workspaceId, entityType: 'tag', entityId: 'y' })).toMatchObject({ deleted: false });
  });

  it('splits more writes than one statement takes', async () => {
    const { workspaceId, write } = workspace();
    const count = MAX_ENTITY_WRITES_PER_STATEMENT * 2 + 7;
    const writes = Array.from({ length: count }, (_, i) => write('created', `e${i}`, { id: `e${i}` }, 'NEW_TAG'));
    expect(await applyEntityWrites(h.db, writes)).toEqual([]);
    expect(await listEntities(h.db, workspaceId, 'tag')).toHaveLength(count);
  });

  it('keeps entity ids, types and workspaces apart, whatever characters they hold', async () => {
    const { workspaceId, write } = workspace();
    const odd = `q"uo\\te'd,{}`;
    expect(
      await applyEntityWrites(h.db, [
        write('created', odd, { id: odd, text: 'ünïcode ✓' }, 'NEW_TAG'),
        { ...write('created', odd, { id: odd }, 'NEW_TAG'), entityType: 'client' },
        { ...write('created', odd, { id: odd }, 'NEW_TAG'), workspaceId: `${workspaceId}-other` },
      ]),
    ).toEqual([]);
    expect(await getEntity(h.db, { workspaceId, entityType: 'tag', entityId: odd })).toMatchObject({
      data: { id: odd, text: 'ünïcode ✓' },
    });
    expect(await getEntity(h.db, { workspaceId, entityType: 'client', entityId: odd })).toBeDefined();
    expect(
      await getEntity(h.db, { workspaceId: `${workspaceId}-other`, entityType: 'tag', entityId: odd }),
    ).toBeDefined();
  });

  it('writes nothing for an empty list', async () => {
    expect(await applyEntityWrites(h.db, [])).toEqual([]);
  });
});
