import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBootstrapResources, listEntities } from '@cap/db';
import { waitFor } from '@cap/testing';
import { startStack, type Stack } from './stack.js';
import { tagLog } from './tag-log-addon.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ addon: tagLog, sizes: { users: 2, projects: 2, tags: 3, clients: 1, entries: 5 } });
});
afterAll(async () => {
  await s?.close();
});

describe('the platform running another add-on than the example', () => {
  it('serves its manifest: its key, its scope, its two webhooks', async () => {
    const manifest = (await (await fetch(`${s.ingressUrl}/manifest`)).json()) as {
      key: string;
      scopes: string[];
      webhooks: { event: string; path: string }[];
    };
    expect(manifest.key).toBe('tag-log');
    expect(manifest.scopes).toEqual(['TAG_READ']);
    expect(manifest.webhooks.map((w) => w.event).sort()).toEqual(['NEW_TAG', 'TAG_DELETED']);
    // No route for an event it does not subscribe to.
    const other = await fetch(`${s.ingressUrl}/webhooks/new-project`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(other.status).toBe(404);
  });

  it('installs, copies only what its scope allows, and runs its own handlers', async () => {
    const { addonId } = await s.installAndWait();
    const run = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED']);
    expect(run.status).toBe('COMPLETED');
    const db = s.ingress.context.database.db;
    const copied = (await getBootstrapResources(db, run.id)).map((r) => r.resource);
    expect(copied).toContain('tags');
    expect(copied).not.toContain('time-entries');
    expect(copied).not.toContain('projects');

    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: 'f'.repeat(24), name: 'from tag-log' };
    expect((await s.sim.sendWebhook('NEW_TAG', body)).status).toBe(200);
    const tag = await waitFor(
      async () => (await listEntities(db, s.workspaceId, 'tag')).find((e) => e.entity_id === body.id),
      { message: "the tag written by tag-log's handler" },
    );
    expect(tag.data).toMatchObject({ name: 'from tag-log', loggedBy: 'tag-log' });
    expect(addonId).toBeTruthy();
    // Its lateness, received by the ingress → committed by the worker, is on the worker's /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${s.worker!.worker.opsPort}/metrics`)).text();
    const count = metrics
      .split('\n')
      .find((l) => l.startsWith('webhook_end_to_end_seconds_count{') && l.includes('event="NEW_TAG"'));
    expect(Number(count?.split(' ').at(-1))).toBeGreaterThanOrEqual(1);
  });
});
