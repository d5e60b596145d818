import { describe, expect, it } from 'vitest';
import { MockStore } from './store.js';
import { resolveSizes } from './generate.js';

const NOW = Date.UTC(2025, 5, 15, 12, 0, 0);
const make = (seed: string, sizes = {}) =>
  new MockStore({ seed, nowMs: NOW, clock: () => NOW, workspaces: [{ sizes }] });

describe('MockStore generation', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = make('same');
    const b = make('same');
    const ws = a.workspaceIds()[0] as string;
    expect(b.workspaceIds()).toEqual([ws]);
    expect(b.listTimeEntries(ws, a.principals(ws).ownerId)).toEqual(a.listTimeEntries(ws, a.principals(ws).ownerId));
    expect(b.listProjects(ws)).toEqual(a.listProjects(ws));
    expect(make('other').workspaceIds()).not.toEqual([ws]);
  });

  it('honours the sizes and mixes membership statuses', () => {
    const store = make('sizes', {
      users: 20,
      projects: 9,
      tasksPerProject: 2,
      clients: 5,
      tags: 11,
      userGroups: 4,
      customFields: 5,
      entries: 500,
      runningTimers: 3,
      days: 10,
    });
    const ws = store.workspaceIds()[0] as string;
    const summary = store.summary(ws);
    expect(summary).toMatchObject({
      users: 20,
      projects: 9,
      tasks: 18,
      clients: 5,
      tags: 11,
      userGroups: 4,
      customFields: 5,
      timeEntries: 503,
      runningTimers: 3,
    });
    const users = store.listUsers(ws, {
      status: 'ALL',
      accountStatuses: ['ACTIVE', 'PENDING_EMAIL_VERIFICATION', 'NOT_REGISTERED', 'LIMITED'],
      memberships: 'WORKSPACE',
    });
    const statuses = new Set(users.map((u) => u.memberships[0]?.membershipStatus));
    expect(statuses).toContain('ACTIVE');
    expect(statuses).toContain('PENDING');
    expect(statuses).toContain('INACTIVE');
    for (const id of [...users.map((u) => u.id), ...store.listProjects(ws).map((p) => p.id), ws])
      expect(id).toMatch(/^[0-9a-f]{24}$/);
  });

  it('puts entries in the last N days, newest first, and gives running timers no end', () => {
    const store = make('entries', { users: 5, entries: 200, days: 7, runningTimers: 2 });
    const ws = store.workspaceIds()[0] as string;
    for (const u of store.listUsers(ws, { status: 'ALL' })) {
      const entries = store.listTimeEntries(ws, u.id);
      const starts = entries.map((e) => e.timeInterval.start);
      expect([...starts].sort().reverse()).toEqual(starts);
      for (const e of entries) {
        expect(Date.parse(e.timeInterval.start)).toBeGreaterThanOrEqual(NOW - 8 * 86_400_000);
        if (e.timeInterval.end === null) expect(e.timeInterval.duration).toBeNull();
        else expect(Date.parse(e.timeInterval.end)).toBeLessThanOrEqual(NOW);
      }
    }
    expect(store.listInProgress(ws)).toHaveLength(2);
  });

  it('accepts a number of workspaces and shared sizes, each workspace’s own sizes winning', () => {
    const store = new MockStore({ seed: 'many', nowMs: NOW, workspaces: 3, sizes: { users: 4, projects: 2 } });
    expect(store.workspaceIds()).toHaveLength(3);
    for (const id of store.workspaceIds()) expect(store.summary(id)).toMatchObject({ users: 4, projects: 2 });
    const mixed = new MockStore({
      seed: 'many',
      nowMs: NOW,
      workspaces: [{ sizes: { users: 9 } }],
      sizes: { users: 4, projects: 2 },
    });
    expect(mixed.summary(mixed.workspaceIds()[0] as string)).toMatchObject({ users: 9, projects: 2 });
  });

  it('refuses sizes out of bounds', () => {
    expect(() => resolveSizes({ users: 0 })).toThrow(/at least one user/);
    expect(() => resolveSizes({ entries: -1 })).toThrow(/non-negative/);
    expect(() => resolveSizes({ entries: 1e9 })).toThrow(/at most/);
  });
});

describe('MockStore mutations', () => {
  it('returns what changed with the webhook to send, and copies that later edits do not alter', () => {
    const store = make('mutations');
    const ws = store.workspaceIds()[0] as string;
    const created = store.createClient(ws, { name: 'Globex' });
    expect(created).toMatchObject({
      event: 'NEW_CLIENT',
      kind: 'created',
      entityType: 'client',
      entity: { name: 'Globex', workspaceId: ws },
    });
    const updated = store.updateClient(ws, created.entity.id, { name: 'Globex Corp' });
    expect(updated.previous?.name).toBe('Globex');
    expect(created.entity.name).toBe('Globex');
    expect(store.getClient(ws, created.entity.id).name).toBe('Globex Corp');
    expect(() => store.createClient(ws, { name: 'Globex Corp' })).toThrow(/already exists/);
  });

  it('stops a running timer when another starts, and reports it in `also`', () => {
    const store = make('timers', { runningTimers: 0 });
    const ws = store.workspaceIds()[0] as string;
    const owner = store.principals(ws).ownerId;
    const first = store.startTimer(ws, { userId: owner, start: '2025-06-15T10:00:00Z' });
    const second = store.startTimer(ws, { userId: owner, start: '2025-06-15T11:00:00Z' });
    expect(second.also?.[0]).toMatchObject({
      event: 'TIMER_STOPPED',
      entity: { id: first.entity.id, timeInterval: { end: '2025-06-15T11:00:00Z', duration: 'PT1H' } },
    });
    expect(store.runningTimer(ws, owner)?.id).toBe(second.entity.id);
  });

  it('splits, deletes and restores entries; deleting a project unlinks its entries', () => {
    const store = make('entries-edit', { runningTimers: 0 });
    const ws = store.workspaceIds()[0] as string;
    const owner = store.principals(ws).ownerId;
    const project = store.createProject(ws, { name: 'Temp' }).entity;
    const entry = store.createTimeEntry(ws, {
      userId: owner,
      start: '2025-06-14T08:00:00Z',
      end: '2025-06-14T10:00:00Z',
      projectId: project.id,
    }).entity;
    const split = store.splitTimeEntry(ws, entry.id, '2025-06-14T09:30:00Z');
    expect(split.entity.timeInterval).toEqual({
      start: '2025-06-14T08:00:00Z',
      end: '2025-06-14T09:30:00Z',
      duration: 'PT1H30M',
    });
    const second = split.related?.[0] as { id: string; timeInterval: { duration: string } };
    expect(second.timeInterval.duration).toBe('PT30M');
    store.deleteTimeEntry(ws, entry.id);
    expect(() => store.getTimeEntry(ws, entry.id)).toThrow();
    expect(store.restoreTimeEntry(ws, entry.id).event).toBe('TIME_ENTRY_RESTORED');
    store.deleteProject(ws, project.id);
    expect(store.getTimeEntry(ws, entry.id).projectId).toBeNull();
    expect(store.getTimeEntry(ws, second.id).projectId).toBeNull();
  });
});

describe('MockStore stability', () => {
  it('keeps workspace, users and projects identical for a seed whatever the current time', () => {
    const early = new MockStore({ seed: 'stable', nowMs: Date.UTC(2025, 0, 10) });
    const late = new MockStore({ seed: 'stable', nowMs: Date.UTC(2026, 6, 1) });
    const ws = early.workspaceIds()[0] as string;
    expect(late.workspaceIds()).toEqual([ws]);
    expect(late.listUsers(ws, { status: 'ALL' }).map((u) => u.id)).toEqual(
      early.listUsers(ws, { status: 'ALL' }).map((u) => u.id),
    );
    expect(late.listProjects(ws).map((p) => p.id)).toEqual(early.listProjects(ws).map((p) => p.id));
    expect(late.principals(ws)).toEqual(early.principals(ws));
  });
});
