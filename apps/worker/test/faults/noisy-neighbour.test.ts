import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cap/testing';
import { startStack, type Stack } from '../stack.js';

let s: Stack;
let quiet: string;

beforeAll(async () => {
  s = await startStack({
    workspaces: 2,
    workerEnv: { AUTO_BOOTSTRAP: 'false' },
    sizes: { users: 2, projects: 1, tags: 1, clients: 1, entries: 2 },
  });
  quiet = s.sim.store.workspaceIds()[1]!;
  await s.installAndWait();
  await s.installAndWait({ workspaceId: quiet });
  await s.settle();
  // Workers stopped: what follows waits in Redis.
  await s.worker!.close();
  s.worker = undefined;
}, 120_000);
afterAll(async () => {
  await s?.close();
});

const FLOOD = 10_000;

/** Distinct NEW_TAG deliveries for one workspace, 32 at a time, each acknowledged. */
async function flood(workspaceId: string, count: number, tag: string): Promise<void> {
  let next = 0;
  const sendOne = async () => {
    while (next < count) {
      const id = `${tag}${(next++).toString(16).padStart(24 - tag.length, '0')}`;
      const body = { ...s.sim.buildWebhook('NEW_TAG', { workspaceId }), id, name: `tag ${id}` };
      const res = await s.sim.sendWebhook('NEW_TAG', body, { workspaceId });
      expect(res.status).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: 32 }, sendOne));
}

describe('a workspace that floods the queue (noisy neighbour)', () => {
  it("does not hold up another workspace's delivery: B is done before 10 % of A's backlog", async () => {
    await flood(s.workspaceId, FLOOD, 'a');
    await flood(quiet, 1, 'b');
    expect(await s.ingress.context.queues.webhooks.getJobCountByTypes('waiting', 'prioritized')).toBe(FLOOD + 1);

    const worker = s.spawnWorker({ AUTO_BOOTSTRAP: 'false' });
    await worker.waitForLine(/"msg":"worker ready"/);
    const db = s.ingress.context.database.db;
    const quietDone = await waitFor(
      () =>
        db
          .selectFrom('webhook_events')
          .select('processed_at')
          .where('workspace_id', '=', quiet)
          .where('status', '=', 'done')
          .executeTakeFirst(),
      { timeoutMs: 60_000, message: "the quiet workspace's delivery" },
    );
    const before = await db
      .selectFrom('webhook_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('workspace_id', '=', s.workspaceId)
      .where('status', '=', 'done')
      .where('processed_at', '<', quietDone.processed_at!)
      .executeTakeFirstOrThrow();
    expect(Number(before.n)).toBeLessThan(FLOOD / 10);

    // And the flood itself is all applied, in the end.
    await waitFor(
      async () => {
        const done = await db
          .selectFrom('webhook_events')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('workspace_id', '=', s.workspaceId)
          .where('status', '=', 'done')
          .executeTakeFirstOrThrow();
        return Number(done.n) === FLOOD;
      },
      { timeoutMs: 90_000, intervalMs: 250, message: "the whole of A's backlog" },
    );
  }, 240_000);
});
