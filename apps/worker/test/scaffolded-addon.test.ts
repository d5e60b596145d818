import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredAddon } from '@cap/addon';
import { getEntity, sql } from '@cap/db';
import { waitFor } from '@cap/testing';
import { startStack, type Stack } from './stack.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../../..');
// A name of its own, so a run never meets another's leftovers; removed afterwards.
const NAME = `scaffold-e2e-${randomBytes(3).toString('hex')}`;
const SNAKE = NAME.replaceAll('-', '_');
const DIR = join(ROOT, 'addons', NAME);

/** Runs a command from the repository root; fails with its output. */
async function sh(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    // Without colour codes, so the output can be matched.
    return stripVTControlCharacters(stdout + stderr);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

let addon: RegisteredAddon;
let s: Stack | undefined;
beforeAll(async () => {
  const out = await sh('node', ['scripts/new-addon.mjs', NAME]);
  expect(out).toContain(`Created addons/${NAME}`);
  ({ addon } = (await import(pathToFileURL(join(DIR, 'src/index.ts')).href)) as { addon: RegisteredAddon });
}, 60_000);
afterAll(async () => {
  await s?.close();
  rmSync(DIR, { recursive: true, force: true });
});

describe('npm run new-addon', () => {
  it('refuses a bad name and an existing folder, saying why', async () => {
    await expect(sh('node', ['scripts/new-addon.mjs', 'Bad_Name'])).rejects.toThrow(/not a valid name/);
    await expect(sh('node', ['scripts/new-addon.mjs', NAME])).rejects.toThrow(/already exists/);
    await expect(sh('node', ['scripts/new-addon.mjs'])).rejects.toThrow(/usage: npm run new-addon -- <name>/);
  });

  it('scaffolds a package that builds, typechecks, lints, is formatted and passes its own tests', async () => {
    await sh('npx', ['tsc', '-p', `addons/${NAME}/tsconfig.build.json`]);
    expect(existsSync(join(DIR, 'dist/index.js'))).toBe(true);
    await sh('npx', ['tsc', '-p', `addons/${NAME}/tsconfig.json`]);
    await sh('npx', ['eslint', `addons/${NAME}`, '--max-warnings=0']);
    await sh('npx', ['prettier', '--check', `addons/${NAME}`]);
    const tests = await sh('npx', ['vitest', 'run', `addons/${NAME}`]);
    expect(tests).toMatch(/Tests\s+2 passed/);
  }, 180_000);

  it('runs end to end: installed, its migration applied, a webhook handled, its page served', async () => {
    s = await startStack({ addon, sizes: { users: 4, projects: 2, tags: 1, clients: 1, entries: 3 } });
    const manifest = (await (await fetch(`${s.ingressUrl}/manifest`)).json()) as {
      key: string;
      components: { path: string }[];
    };
    expect(manifest.key).toBe(NAME);
    expect(manifest.components.map((c) => c.path)).toEqual([`/ui/${NAME}`]);
    await s.installAndWait();
    // The bootstrap's end removes from the mirror what Clockify does not have: let it finish
    // before a webhook about a project only this test knows.
    expect((await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED'])).status).toBe('COMPLETED');

    const body = { ...s.sim.buildWebhook('NEW_PROJECT'), id: 'e2e0'.padEnd(24, '0'), name: 'Scaffolded <project>' };
    expect((await s.sim.sendWebhook('NEW_PROJECT', body)).status).toBe(200);
    const db = s.ingress.context.database.db;
    const row = await waitFor(
      async () =>
        (
          await sql<{ project_name: string; event: string }>`
            SELECT project_name, event FROM ${sql.table(`${SNAKE}_project_events`)} WHERE project_id = ${body.id}`.execute(
            db,
          )
        ).rows[0],
      { message: "the scaffolded handler's row" },
    );
    expect(row).toEqual({ project_name: 'Scaffolded <project>', event: 'NEW_PROJECT' });
    expect(
      (await getEntity(db, { workspaceId: s.workspaceId, entityType: 'project', entityId: body.id }))?.data,
    ).toMatchObject({ name: 'Scaffolded <project>' });

    const owner = s.sim.store.principals(s.workspaceId).ownerId;
    const page = await fetch(`${s.ingressUrl}/ui/${NAME}?auth_token=${await s.sim.userToken(owner)}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h1>Latest project events</h1>');
    expect(html).toContain('NEW_PROJECT: Scaffolded &lt;project&gt;');
    // A member who is not an admin is refused: the component is for ADMINS.
    const member = s.sim.store
      .listUsers(s.workspaceId)
      .find((u) => s!.sim.store.userRole(s!.workspaceId, u.id) === 'USER');
    expect(member).toBeDefined();
    const refused = await fetch(`${s.ingressUrl}/ui/${NAME}?auth_token=${await s.sim.userToken(member!.id)}`);
    expect(refused.status).toBe(403);
  });
});
