import { describe, expect, it } from 'vitest';
import { diffMirror, entityFingerprint, mirrorsBody, snapshotFromRows, type MirrorSnapshot } from './mirror.js';

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
    expect(snapshot.tag).toEqual({ t1: entityFingerprint('tag', { name: 'Urgent', id: 't1' }) });
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

describe('entityFingerprint', () => {
  it('tells apart any change of a stored field, including a field erased by a short body', () => {
    const project = { id: 'p', name: 'Apollo', clientId: 'c1', archived: false, billable: true, note: 'x' };
    const fp = entityFingerprint('project', project);
    expect(
      entityFingerprint('project', {
        note: 'x',
        billable: true,
        archived: false,
        clientId: 'c1',
        name: 'Apollo',
        id: 'p',
      }),
    ).toBe(fp);
    expect(entityFingerprint('project', { ...project, note: 'y' })).not.toBe(fp);
    expect(entityFingerprint('project', { ...project, archived: true })).not.toBe(fp);
    const task = { id: 't', name: 'Design', projectId: 'p', status: 'ACTIVE' };
    expect(entityFingerprint('task', { ...task, status: 'DONE' })).not.toBe(entityFingerprint('task', task));
    const user = {
      id: 'u',
      name: 'Ada',
      email: 'ada@example.com',
      status: 'ACTIVE',
      settings: { weekStart: 'MONDAY' },
    };
    // What a USER_UPDATED body would leave if it replaced the stored user instead of merging.
    expect(entityFingerprint('user', { id: 'u', name: 'Ada', email: 'ada@example.com' })).not.toBe(
      entityFingerprint('user', user),
    );
    expect(entityFingerprint('user', { ...user, settings: { weekStart: 'SUNDAY' } })).not.toBe(
      entityFingerprint('user', user),
    );
  });

  it('leaves out only the fields webhook bodies carry and list items do not', () => {
    const entry = { id: 'e', description: 'x', projectId: 'p' };
    expect(entityFingerprint('time_entry', { ...entry, project: { id: 'p' }, tags: [], user: null, task: null })).toBe(
      entityFingerprint('time_entry', entry),
    );
    const project = { id: 'p', name: 'Apollo' };
    expect(entityFingerprint('project', { ...project, tasks: [], client: null })).toBe(
      entityFingerprint('project', project),
    );
    const user = { id: 'u', email: 'new@example.com' };
    expect(entityFingerprint('user', { ...user, oldEmail: 'old@example.com' })).toBe(entityFingerprint('user', user));
  });
});

describe('mirrorsBody', () => {
  it('holds when every field the body carries is in the row, whatever else the row keeps', () => {
    const row = { id: 'u', name: 'Ada', email: 'ada@example.com', status: 'ACTIVE' };
    expect(mirrorsBody('user', row, { id: 'u', name: 'Ada', email: 'ada@example.com' })).toBe(true);
    expect(mirrorsBody('user', row, { id: 'u', name: 'Ada L.', email: 'ada@example.com' })).toBe(false);
    expect(mirrorsBody('user', row, { id: 'u', profilePicture: '' })).toBe(false);
  });
});
