import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandlerHarness } from '@cap/testing/addon';
import { addon, type __PASCAL__Tables } from '../src/addon.js';

let harness: HandlerHarness;
beforeAll(async () => {
  harness = await HandlerHarness.start(addon);
});
afterAll(async () => {
  await harness?.close();
});

const events = () =>
  harness.db
    .withTables<__PASCAL__Tables>()
    .selectFrom('__SNAKE___project_events')
    .select(['project_id', 'event'])
    .orderBy('received_at')
    .execute();

describe('__TITLE__', () => {
  it('records a new project in its table and mirrors it', async () => {
    const project = harness.body('NEW_PROJECT') as { id: string; name: string };
    const run = await harness.run('NEW_PROJECT', project);
    expect(run.mirrorWrites).toEqual([
      { change: 'created', entityType: 'project', entityId: project.id, data: project, applied: true },
    ]);
    expect(await events()).toContainEqual({ project_id: project.id, event: 'NEW_PROJECT' });
  });

  it('records a deletion and leaves a tombstone in the mirror', async () => {
    const project = harness.body('PROJECT_DELETED') as { id: string };
    await harness.run('PROJECT_DELETED', project);
    expect(await events()).toContainEqual({ project_id: project.id, event: 'PROJECT_DELETED' });
    expect(await harness.entity('project', project.id)).toMatchObject({ deleted: true });
  });
});
