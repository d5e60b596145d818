import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENTITY_EVENTS, WEBHOOK_EVENT_NAMES, webhookPath, type WebhookEventName } from '@cap/clockify';
import { waitFor } from '@cap/testing';
import { createSimulator, type Simulator } from '../src/index.js';
import { startReceiver, tempDataDir, testManifest, type Received } from './helpers.js';

let sim: Simulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let ws: string;
let cleanup: () => Promise<void>;

const SUBSCRIBED = WEBHOOK_EVENT_NAMES.filter((e) => e !== 'USER_UPDATED');

beforeAll(async () => {
  const data = await tempDataDir();
  cleanup = data.cleanup;
  receiver = await startReceiver();
  sim = await createSimulator({
    dataDir: data.dir,
    seed: 'webhooks',
    workspaces: [{ sizes: { users: 10, entries: 200 } }],
    rateLimit: false,
  });
  ws = sim.store.workspaceIds()[0] as string;
  await sim.install({ manifest: testManifest(receiver.url, SUBSCRIBED), workspaceId: ws });
});

beforeEach(() => {
  receiver.received.length = 0;
});

afterAll(async () => {
  await sim.close();
  await receiver.close();
  await cleanup();
});

function posted(event: WebhookEventName): Received[] {
  return receiver.received.filter((r) => r.headers['clockify-webhook-event-type'] === event);
}

describe('webhook bodies', () => {
  it('knows 51 events', () => {
    expect(WEBHOOK_EVENT_NAMES).toHaveLength(51);
  });

  it.each(WEBHOOK_EVENT_NAMES.map((e) => [e]))(
    '%s: a JSON object posted to the event path with the event token and headers',
    async (event) => {
      const body = sim.buildWebhook(event, { workspaceId: ws });
      if (event === 'USER_UPDATED') {
        // Not subscribed: Clockify would not deliver it, and neither does the simulator.
        await expect(sim.sendWebhook(event, body)).rejects.toThrow(/does not subscribe/);
        return;
      }
      const delivery = await sim.sendWebhook(event, body);
      expect(delivery.status).toBe(200);
      const [req] = posted(event);
      expect(req).toBeDefined();
      const r = req as Received;
      expect(r.method).toBe('POST');
      expect(r.path).toBe(webhookPath(event));
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['clockify-signature']).toBe(sim.installation().webhookTokens[event]);
      const parsed = JSON.parse(r.body) as Record<string, unknown>;
      expect(typeof parsed).toBe('object');
      expect(Array.isArray(parsed)).toBe(false);
      expect(parsed).toEqual(body);
      if ('workspaceId' in parsed) expect(parsed.workspaceId).toBe(ws);
      if (ENTITY_EVENTS[event]) expect(parsed.id).toMatch(/^[0-9a-f]{24}$/);
    },
  );

  it('shapes time entries as Clockify does, hydrated, with end null for a started timer', () => {
    const started = sim.buildWebhook('NEW_TIMER_STARTED', { workspaceId: ws });
    expect(started).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      workspaceId: ws,
      userId: expect.any(String),
      tagIds: expect.any(Array),
      billable: expect.any(Boolean),
      customFieldValues: expect.any(Array),
      timeInterval: { start: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), end: null, duration: null },
      user: { id: expect.any(String), name: expect.any(String) },
      tags: expect.any(Array),
    });
    expect('projectId' in started && 'taskId' in started && 'project' in started && 'task' in started).toBe(true);
    const stopped = sim.buildWebhook('TIMER_STOPPED', { workspaceId: ws }) as {
      timeInterval: { end: string; duration: string };
    };
    expect(stopped.timeInterval.end).toEqual(expect.any(String));
    expect(stopped.timeInterval.duration).toMatch(/^PT/);
  });

  it('shapes the sparse events as REFERENCE §4 shows', () => {
    const deleted = sim.buildWebhook('USER_DELETED_FROM_WORKSPACE', { workspaceId: ws });
    expect(Object.keys(deleted).sort()).toEqual(['email', 'id', 'name']);
    const email = sim.buildWebhook('USER_EMAIL_CHANGED', { workspaceId: ws });
    expect(email.oldEmail).toEqual(expect.any(String));
    expect(email.oldEmail).not.toBe(email.email);
    expect(Object.keys(sim.buildWebhook('ASSIGNMENT_CREATED', { workspaceId: ws })).sort()).toEqual([
      'assignmentId',
      'projectId',
      'userId',
      'workspaceId',
    ]);
    expect(Object.keys(sim.buildWebhook('BALANCE_UPDATED', { workspaceId: ws })).sort()).toEqual([
      'note',
      'updatedBy',
      'userId',
      'value',
      'workspaceId',
    ]);
  });
});

describe('mutations send the matching webhook', () => {
  it('createTag, updateTag, deleteTag change the store and send NEW_TAG, TAG_UPDATED, TAG_DELETED', async () => {
    const created = await sim.mutate.createTag(ws, { name: 'simulated' });
    const tag = created.change.entity;
    expect(sim.store.getTag(ws, tag.id).name).toBe('simulated');
    expect(created.deliveries).toMatchObject([{ event: 'NEW_TAG', delivery: { status: 200 } }]);
    expect(JSON.parse((posted('NEW_TAG')[0] as Received).body)).toEqual({
      id: tag.id,
      name: 'simulated',
      workspaceId: ws,
      archived: false,
    });

    await sim.mutate.updateTag(ws, tag.id, { name: 'renamed' });
    expect(sim.store.getTag(ws, tag.id).name).toBe('renamed');
    expect(JSON.parse((posted('TAG_UPDATED')[0] as Received).body)).toMatchObject({ id: tag.id, name: 'renamed' });

    await sim.mutate.deleteTag(ws, tag.id);
    expect(() => sim.store.getTag(ws, tag.id)).toThrow(/doesn't exist/);
    expect(JSON.parse((posted('TAG_DELETED')[0] as Received).body)).toMatchObject({ id: tag.id });
  });

  it('startTimer and stopTimer send NEW_TIMER_STARTED (end null) and TIMER_STOPPED for the same entry', async () => {
    const user = sim.store.listUsers(ws, { status: 'ACTIVE' }).find((u) => !sim.store.runningTimer(ws, u.id)) as {
      id: string;
    };
    const started = await sim.mutate.startTimer(ws, { userId: user.id, description: 'focus' });
    const id = started.change.entity.id;
    expect(sim.store.runningTimer(ws, user.id)?.id).toBe(id);
    const startedBody = JSON.parse((posted('NEW_TIMER_STARTED')[0] as Received).body) as {
      id: string;
      timeInterval: { end: unknown };
    };
    expect(startedBody).toMatchObject({ id, timeInterval: { end: null } });

    await sim.mutate.stopTimer(ws, user.id);
    expect(sim.store.runningTimer(ws, user.id)).toBeUndefined();
    const stoppedBody = JSON.parse((posted('TIMER_STOPPED')[0] as Received).body) as {
      id: string;
      timeInterval: { end: string };
    };
    expect(stoppedBody.id).toBe(id);
    expect(stoppedBody.timeInterval.end).toEqual(expect.any(String));
  });

  it('does not deliver an event the add-on does not subscribe to, and says so', async () => {
    const user = sim.store.listUsers(ws, { status: 'ACTIVE' })[0] as { id: string };
    const result = await sim.mutate.updateUser(ws, user.id, { name: 'Renamed Person' });
    expect(sim.store.getUser(ws, user.id).name).toBe('Renamed Person');
    expect(result.deliveries).toEqual([
      { event: 'USER_UPDATED', addonKey: 'sim-test-addon', skipped: expect.stringContaining('does not subscribe') },
    ]);
    expect(posted('USER_UPDATED')).toHaveLength(0);
  });

  it('sends the webhook when the add-on itself changes data through the mock API', async () => {
    const token = sim.installation().installationToken;
    const res = await fetch(`${sim.url}/v1/workspaces/${ws}/clients`, {
      method: 'POST',
      headers: { 'X-Addon-Token': token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Made by the add-on' }),
    });
    expect(res.status).toBe(201);
    const client = (await res.json()) as { id: string };
    await waitFor(() => posted('NEW_CLIENT').length === 1, { timeoutMs: 5000 });
    expect(JSON.parse((posted('NEW_CLIENT')[0] as Received).body)).toMatchObject({
      id: client.id,
      name: 'Made by the add-on',
      workspaceId: ws,
    });
  });

  it('trigger() makes a real change for modelled events', async () => {
    const before = sim.store.listTags(ws).length;
    const delivery = await sim.trigger('NEW_TAG');
    expect(delivery.status).toBe(200);
    expect(sim.store.listTags(ws)).toHaveLength(before + 1);
    expect(delivery.change?.event).toBe('NEW_TAG');
  });
});

describe('burst', () => {
  it('sends distinct deliveries plus byte-identical duplicates, limited to the chosen events', async () => {
    const events: WebhookEventName[] = ['NEW_TIME_ENTRY', 'TIME_ENTRY_UPDATED', 'TAG_UPDATED', 'NEW_INVOICE'];
    const report = await sim.burst({
      count: 40,
      rate: 2000,
      duplicates: 0.25,
      reorder: true,
      events,
      seed: 'burst-test',
    });
    expect(report).toMatchObject({
      sent: 50,
      unique: 40,
      duplicates: 10,
      errors: 0,
      reordered: true,
      byStatus: { '200': 50 },
    });
    expect(receiver.received).toHaveLength(50);
    expect(
      receiver.received.every((r) => events.includes(r.headers['clockify-webhook-event-type'] as WebhookEventName)),
    ).toBe(true);

    const counts = new Map<string, number>();
    for (const r of receiver.received) {
      const key = `${String(r.headers['clockify-webhook-event-type'])}\n${r.body}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(40);
    expect([...counts.values()].filter((n) => n === 2)).toHaveLength(10);
    expect(report.deliveries?.filter((d) => d.duplicate)).toHaveLength(10);
    expect(report.mutations).toBeGreaterThan(0);
  });

  it('refuses events the add-on does not subscribe to', async () => {
    await expect(sim.burst({ count: 1, events: ['USER_UPDATED'] })).rejects.toThrow(/does not subscribe/);
  });
});
