import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandlerHarness } from '@cap/testing/addon';
import { addon, MIRROR_TIME_ENTRIES_SETTING } from '../src/addon.js';

let harness: HandlerHarness;
beforeAll(async () => {
  harness = await HandlerHarness.start(addon);
});
afterAll(async () => {
  await harness?.close();
});

describe('the example add-on’s handlers', () => {
  it('mirrors a new project as a creation, and its deletion as a tombstone', async () => {
    const project = harness.body('NEW_PROJECT') as { id: string; name: string };
    const created = await harness.run('NEW_PROJECT', project);
    expect(created.mirrorWrites).toEqual([
      { change: 'created', entityType: 'project', entityId: project.id, data: project, applied: true },
    ]);
    expect(created.apiCalls).toEqual([]);

    const deleted = await harness.run('PROJECT_DELETED', project);
    expect(deleted.mirrorWrites.map((w) => w.change)).toEqual(['deleted']);
    expect(await harness.entity('project', project.id)).toMatchObject({ deleted: true });
  });

  it('merges the short USER_UPDATED body, keeping the fields it lacks', async () => {
    const joined = harness.body('USER_JOINED_WORKSPACE') as { id: string };
    await harness.run('USER_JOINED_WORKSPACE', joined);
    const updated = harness.body('USER_UPDATED') as { id: string };
    const run = await harness.run('USER_UPDATED', { ...updated, id: joined.id, name: 'Renamed' });
    expect(run.mirrorWrites.map((w) => w.change)).toEqual(['merged']);
    const stored = (await harness.entity('user', joined.id))!.data;
    expect(stored.name).toBe('Renamed');
    // What only the join carried stays.
    for (const key of Object.keys(joined)) expect(stored).toHaveProperty(key);
  });

  it('skips time entries when the workspace turned them off, and says so at debug', async () => {
    const entry = harness.body('NEW_TIME_ENTRY');
    const run = await harness.run('NEW_TIME_ENTRY', entry, { settings: { [MIRROR_TIME_ENTRIES_SETTING]: 'false' } });
    expect(run.mirrorWrites).toEqual([]);
    expect(run.logs).toContainEqual(
      expect.objectContaining({ level: 'debug', msg: expect.stringMatching(/not mirrored/) }),
    );
    const mirrored = await harness.run('NEW_TIME_ENTRY', entry);
    expect(mirrored.mirrorWrites.map((w) => w.change)).toEqual(['created']);
  });
});
