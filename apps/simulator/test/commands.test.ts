import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/index.js';
import { startReceiver, tempDataDir, testManifest } from './helpers.js';

const TOKEN = 'control-token-for-tests';
let sim: Simulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let cleanup: () => Promise<void>;
let ws: string;

beforeAll(async () => {
  const data = await tempDataDir();
  cleanup = data.cleanup;
  receiver = await startReceiver();
  sim = await createSimulator({
    dataDir: data.dir,
    seed: 'commands',
    workspaces: [{ sizes: { users: 4, entries: 20 } }],
    rateLimit: false,
    controlToken: TOKEN,
  });
  ws = sim.store.workspaceIds()[0]!;
  await sim.install({ manifest: testManifest(receiver.url, ['NEW_TAG', 'NEW_CLIENT']), workspaceId: ws });
});
afterAll(async () => {
  await sim?.close();
  await receiver?.close();
  await cleanup();
});

function command(name: string, body: string, token = TOKEN): Promise<Response> {
  return fetch(`${sim.api!.origin}/_sim/commands/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sim-control-token': token },
    body,
  });
}

describe('simulator commands over HTTP (what `sim webhook` and `sim burst` use)', () => {
  it('runs a webhook command in this process: the store changes and the webhook goes out', async () => {
    const tagsBefore = sim.store.listTags(ws).length;
    const res = await command('webhook', JSON.stringify({ event: 'NEW_TAG' }));
    expect(res.status).toBe(200);
    const result = (await res.json()) as { code: number; human: string; machine: { status: number } };
    expect(result.code).toBe(0);
    expect(result.machine.status).toBe(200);
    expect(result.human).toContain('NEW_TAG →');
    expect(sim.store.listTags(ws)).toHaveLength(tagsBefore + 1);
  });

  it('runs a burst command and reports it', async () => {
    const res = await command('burst', JSON.stringify({ count: 5, rate: 1000, events: ['NEW_CLIENT'] }));
    expect(res.status).toBe(200);
    const result = (await res.json()) as { code: number; machine: { sent: number; errors: number } };
    expect(result).toMatchObject({ code: 0, machine: { sent: 5, errors: 0 } });
  });

  it('refuses without the token, and bad input with 400 naming the problem', async () => {
    expect((await command('webhook', '{"event":"NEW_TAG"}', 'wrong')).status).toBe(401);
    const cases: Array<[string, string, RegExp]> = [
      ['webhook', '{', /Malformed JSON/],
      ['webhook', '[]', /JSON object/],
      ['webhook', '{"event":"NOT_AN_EVENT"}', /event must be a webhook event/],
      ['burst', '{"count":0}', /count must be a whole number from 1/],
      ['burst', '{"count":5,"duplicates":2}', /duplicates must be a number from 0 to 1/],
      ['burst', '{"count":5,"reorder":1}', /reorder must be/],
      ['frobnicate', '{}', /unknown command ..frobnicate/],
    ];
    for (const [name, body, message] of cases) {
      const res = await command(name, body);
      expect(res.status, `${name} ${body}`).toBe(400);
      expect(JSON.stringify(await res.json())).toMatch(message);
    }
  });

  it('has no commands on a mock started without a control token', async () => {
    const data = await tempDataDir();
    const plain = await createSimulator({ dataDir: data.dir, seed: 'plain', workspaces: 1, rateLimit: false });
    try {
      const res = await fetch(`${plain.api!.origin}/_sim/commands/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sim-control-token': TOKEN },
        body: '{"event":"NEW_TAG"}',
      });
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
      await data.cleanup();
    }
  });
});
