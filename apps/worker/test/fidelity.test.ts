import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_STUDIO_WRITES_SETTING } from '@cap/addon';
import { MIRROR_TIME_ENTRIES_SETTING } from '@cap/workspace-mirror';
import { getEntity, getInstallation, listEntities } from '@cap/db';
import { waitFor } from '@cap/testing';
import { countingAddon } from './counting-addon.js';
import { startStack, type Stack } from './stack.js';

/**
 * Clockify's bodies as they really are, through real HTTP, Redis and Postgres: a short body must
 * not erase what the bootstrap stored, and a change reverted within the dedupe window is a change.
 */

const counting = countingAddon();
let s: Stack;

const db = () => s.ingress.context.database.db;

beforeAll(async () => {
  s = await startStack({
    sizes: { users: 3, projects: 1, tasksPerProject: 1, tags: 2, clients: 1, entries: 2 },
    addon: counting.addon,
    workerEnv: { CLOCKIFY_EARLY_401_BACKOFF_MS: '50' },
  });
  // A token Clockify issued a moment ago is refused for a little while.
  s.sim.api!.faults.set('getTags', { failNext: 2, failStatus: 401 });
  s.sim.api!.faults.set('addonGetSettings', { failNext: 1, failStatus: 401 });
  await s.installAndWait();
  await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED']);
  await s.settle();
});
afterAll(async () => {
  await s?.close();
});

describe('body kinds', () => {
  it('a user renamed by the short USER_UPDATED body keeps the status and roles the bootstrap stored', async () => {
    const users = await listEntities(db(), s.workspaceId, 'user');
    const stored = users.find((u) => u.data.status !== undefined && Array.isArray(u.data.memberships));
    expect(stored, 'a bootstrapped user with status and memberships').toBeDefined();
    const before = stored!.data as Record<string, unknown>;
    // What Clockify sends for USER_UPDATED: the id, the email and the name, nothing else.
    const body = { id: stored!.entity_id, email: before.email, name: 'Renamed By Webhook' };
    expect((await s.sim.sendWebhook('USER_UPDATED', body)).status).toBe(200);
    await waitFor(() => counting.count('USER_UPDATED', stored!.entity_id) === 1, { message: 'USER_UPDATED handled' });
    await s.settle();
    const after = await getEntity(db(), {
      workspaceId: s.workspaceId,
      entityType: 'user',
      entityId: stored!.entity_id,
    });
    expect(after?.data).toEqual({ ...before, name: 'Renamed By Webhook' });
    expect(after?.last_event).toBe('USER_UPDATED');
  });
});

describe('right after install', () => {
  it('an early 401 is retried with backoff: the copy completes', async () => {
    const run = await s.latestRun();
    expect(run?.status).toBe('COMPLETED');
    const tags = await listEntities(db(), s.workspaceId, 'tag');
    expect(tags.length).toBeGreaterThan(0);
    expect(s.worker!.logs.join('')).toContain('Clockify answered 401 right after install');
  });

  it('the settings Clockify stored at install are loaded, typed by the manifest', async () => {
    const key = { workspaceId: s.workspaceId, addonId: s.sim.installation().addonId };
    await waitFor(async () => ((await getInstallation(db(), key))?.settings ?? []).length > 0, {
      message: 'the settings read from Clockify',
    });
    expect((await getInstallation(db(), key))?.settings).toEqual([
      { id: MIRROR_TIME_ENTRIES_SETTING, name: 'Mirror time entries', value: true },
      { id: API_STUDIO_WRITES_SETTING, name: 'Allow API Studio writes', value: false },
    ]);
  });

  it('a CHECKBOX saved as the string "false" is false: time entries are no longer mirrored', async () => {
    const key = { workspaceId: s.workspaceId, addonId: s.sim.installation().addonId };
    await s.sim.updateSettings({ [MIRROR_TIME_ENTRIES_SETTING]: 'false' });
    await waitFor(async () => (await getInstallation(db(), key))?.settings_seq !== 0, { message: 'settings applied' });
    const entry = { ...s.sim.buildWebhook('NEW_TIME_ENTRY'), id: 'c'.repeat(24) };
    expect((await s.sim.sendWebhook('NEW_TIME_ENTRY', entry)).status).toBe(200);
    await waitFor(() => counting.count('NEW_TIME_ENTRY', entry.id) === 1, { message: 'the handler ran' });
    await s.settle();
    expect(await getEntity(db(), { workspaceId: s.workspaceId, entityType: 'time_entry', entityId: entry.id })).toBe(
      undefined,
    );
    await s.sim.updateSettings({ [MIRROR_TIME_ENTRIES_SETTING]: true });
    await s.settle();
  });
});

describe('big bodies', () => {
  it('a PROJECT_UPDATED embedding 5,000 tasks is accepted and mirrored', async () => {
    const project = (await listEntities(db(), s.workspaceId, 'project'))[0]!;
    const task = (i: number) => ({
      id: `${i.toString(16).padStart(8, '0')}${'b'.repeat(16)}`,
      name: `Task ${i} with a realistic name`,
      projectId: project.entity_id,
      assigneeIds: ['a'.repeat(24), 'c'.repeat(24)],
      assigneeId: null,
      userGroupIds: ['d'.repeat(24)],
      estimate: 'PT4H30M',
      status: 'ACTIVE',
      duration: 'PT12H15M30S',
      billable: true,
      hourlyRate: { amount: 5000, currency: 'USD' },
      costRate: { amount: 2500, currency: 'USD' },
      budgetEstimate: 120000,
    });
    const body = {
      ...(project.data as Record<string, unknown>),
      tasks: Array.from({ length: 5000 }, (_, i) => task(i)),
    };
    const raw = JSON.stringify(body);
    expect(Buffer.byteLength(raw)).toBeGreaterThan(2_000_000);
    const sent = await s.sim.sendWebhook('PROJECT_UPDATED', raw);
    expect(sent.status).toBe(200);
    await waitFor(() => counting.count('PROJECT_UPDATED', project.entity_id) === 1, {
      timeoutMs: 20_000,
      message: 'the big project handled',
    });
    await s.settle();
    const after = await getEntity(db(), {
      workspaceId: s.workspaceId,
      entityType: 'project',
      entityId: project.entity_id,
    });
    expect(after?.last_event).toBe('PROJECT_UPDATED');
    expect((after?.data.tasks as unknown[] | undefined)?.length).toBe(5000);
  });
});

describe('what a duplicate is', () => {
  it('a tag renamed A → B → A within the window ends as A; A sent again at once is processed once', async () => {
    const tag = (await listEntities(db(), s.workspaceId, 'tag'))[0]!;
    const body = (name: string) => ({ ...(tag.data as Record<string, unknown>), name });
    const answers = [];
    for (const name of ['A', 'A', 'B', 'A']) {
      answers.push((await s.sim.sendWebhook('TAG_UPDATED', JSON.stringify(body(name)))).body);
    }
    expect(answers).toEqual([
      { received: true },
      { received: true, duplicate: true },
      { received: true },
      { received: true },
    ]);
    await waitFor(() => counting.count('TAG_UPDATED', tag.entity_id) === 3, { message: 'three changes handled' });
    await s.settle();
    expect(counting.count('TAG_UPDATED', tag.entity_id)).toBe(3);
    const after = await getEntity(db(), { workspaceId: s.workspaceId, entityType: 'tag', entityId: tag.entity_id });
    expect(after?.data.name).toBe('A');
  });
});
