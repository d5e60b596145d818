import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEntity, listEntities } from '@cap/db';
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
  });
  await s.installAndWait();
  await s.waitForRun(['COMPLETED']);
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
