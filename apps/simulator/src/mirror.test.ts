import { describe, expect, it } from 'vitest';
import { diffMirror, snapshotFromRows, type MirrorSnapshot } from './mirror.js';

const entry = (id: string, start: string, description = 'Work') => ({
  entity_type: 'time_entry',
  entity_id: id,
  deleted: false,
  data: { id, description, timeInterval: { start, end: null }, projectId: null, taskId: null, billable: false },
});

describe('snapshotFromRows', () => {
  const window = { start: new Date('2026-10-29T09:00:00Z'), end: new Date('2026-11-29T09:00:00Z') };
  const rows = [
    entry('before', '2026-10-29T08:59:59Z'),
    entry('first', '2026-10-29T09:00:00Z'),
    entry('last', '2026-11-29T09:00:00Z'),
    entry('after', '2026-11-29T09:00:01Z'),
    { ...entry('gone', '2026-11-01T10:00:00Z'), deleted: true },
    { entity_type: 'tag', entity_id: 't1', deleted: false, data: { id: 't1', name: 'Urgent' } },
    { entity_type: 'client', entity_id: 'c1', deleted: false, data: { id: 'c1', name: 'Acme' } },
  ];

  it('keeps time entries starting inside the window (bounds included) and no tombstones', () => {
    const snapshot = snapshotFromRows(rows, ['time_entry', 'tag', 'project'], window);
    expect(Object.keys(snapshot.time_entry!).sort()).toEqual(['first', 'last']);
    expect(snapshot.tag).toEqual({ t1: JSON.stringify(['Urgent']) });
    expect(snapshot.project).toEqual({});
    expect(snapshot.client).toBeUndefined();
  });

  it('keeps every time entry without a window', () => {
    const snapshot = snapshotFromRows(rows, ['time_entry']);
    expect(Object.keys(snapshot.time_entry!).sort()).toEqual(['after', 'before', 'first', 'last']);
  });
});

describe('diffMirror', () => {
  it('names missing, extra and changed entities by type and id', () => {
    const expected: MirrorSnapshot = { tag: { a: '["A"]', b: '["B"]' }, client: { c: '["C"]' } };
    const actual: MirrorSnapshot = { tag: { a: '["A"]', b: '["B2"]', x: '["X"]' }, client: {} };
    const diff = diffMirror(expected, actual);
    expect(diff).toEqual({
      equal: false,
      missing: ['client/c'],
      extra: ['tag/x'],
      changed: ['tag/b'],
      counts: { tag: 2, client: 1 },
    });
    expect(diffMirror(expected, structuredClone(expected)).equal).toBe(true);
  });
});
