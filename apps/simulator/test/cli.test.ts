import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cap/testing';
import { startReceiver, tempDataDir, testManifest } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let dataDir: string;
let cleanup: () => Promise<void>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let serve: ChildProcess;
let served: { url: string; origin: string; workspaces: Array<{ id: string }> };
let serveOut = '';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = await tempDataDir());
  receiver = await startReceiver((r) =>
    r.method === 'GET' && r.path === '/manifest'
      ? { status: 200, body: testManifest(receiver.url, ['NEW_TAG', 'NEW_TIME_ENTRY', 'TIMER_STOPPED']) }
      : { status: 200, body: { received: true } },
  );
  serve = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=source',
      CLI,
      'serve',
      '--port',
      '0',
      '--json',
      '--users',
      '6',
      '--entries',
      '40',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    },
  );
  serve.stdout?.on('data', (c: Buffer) => (serveOut += c.toString()));
  const line = await waitFor(() => serveOut.split('\n').find((l) => l.startsWith('{')), {
    timeoutMs: 20_000,
    message: 'sim serve to print its address',
  });
  served = JSON.parse(line) as typeof served;
});

afterAll(async () => {
  if (serve.exitCode === null) {
    serve.kill('SIGTERM');
    await waitFor(() => serve.exitCode !== null, { timeoutMs: 10_000 });
  }
  await receiver.close();
  await cleanup();
});

describe('sim CLI', () => {
  it('serves the mock API and prints where, as JSON, never its control token', async () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(served.workspaces).toHaveLength(1);
    expect((await fetch(`${served.origin}/_sim/health`)).status).toBe(200);
    expect(serveOut).not.toContain('controlToken');
    const state = await run(['state', '--json']);
    expect(state.code).toBe(0);
    expect(state.stdout).not.toContain('controlToken');
    // Commands need the token the serve keeps in its state file (mode 0600).
    const refused = await fetch(`${served.origin}/_sim/commands/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-control-token': 'guess' },
      body: JSON.stringify({ event: 'NEW_TAG' }),
    });
    expect(refused.status).toBe(401);
  });

  it('installs, delivers webhooks and bursts across invocations, then uninstall revokes the tokens in the running mock', async () => {
    const install = await run(['install', '--ingress', receiver.url, '--json']);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(JSON.parse(install.stdout)).toMatchObject({
      type: 'INSTALLED',
      status: 200,
      workspaceId: served.workspaces[0]?.id,
    });
    const installed = JSON.parse(receiver.received.find((r) => r.path === '/lifecycle/installed')?.body ?? '{}') as {
      authToken: string;
      apiUrl: string;
      workspaceId: string;
    };
    expect(installed.apiUrl).toBe(served.url);
    expect(install.stdout).not.toContain(installed.authToken);

    const api = () =>
      fetch(`${served.url}/v1/workspaces/${installed.workspaceId}/tags`, {
        headers: { 'X-Addon-Token': installed.authToken },
      });
    expect((await api()).status).toBe(200);

    const hook = await run(['webhook', 'new-tag', '--json']);
    expect(hook.code).toBe(0);
    expect(hook.stderr).toBe('');
    expect(JSON.parse(hook.stdout)).toMatchObject({ event: 'NEW_TAG', status: 200 });
    const delivered = receiver.received.filter((r) => r.path === '/webhooks/new-tag');
    expect(delivered).toHaveLength(1);
    // The command ran inside the running serve: the tag the webhook announced is in the data
    // the mock API serves.
    const tagId = (JSON.parse(delivered[0]!.body) as { id: string }).id;
    const tags = (await (await api()).json()) as { id: string }[];
    expect(tags.map((t) => t.id)).toContain(tagId);

    // --local works on a copy rebuilt from the seed instead, and says so.
    const local = await run(['webhook', 'new-tag', '--local', '--json']);
    expect(local.code).toBe(0);
    expect(local.stderr).toContain('local copy');
    const localTagId = (
      JSON.parse(receiver.received.filter((r) => r.path === '/webhooks/new-tag')[1]!.body) as { id: string }
    ).id;
    expect(((await (await api()).json()) as { id: string }[]).map((t) => t.id)).not.toContain(localTagId);

    const burst = await run(['burst', '--count', '20', '--rate', '500', '--duplicates', '0.1', '--reorder', '--json']);
    expect(burst.code).toBe(0);
    const burstReport = JSON.parse(burst.stdout) as { achievedRate: number };
    expect(burstReport).toMatchObject({ sent: 22, unique: 20, duplicates: 2, errors: 0 });
    // 22 sends started 2 ms apart (500 per second): about that rate, not as fast as possible
    // (22 over 21 intervals, each started up to 1 ms early, allows a little above 500).
    expect(burstReport.achievedRate).toBeGreaterThan(0);
    expect(burstReport.achievedRate).toBeLessThanOrEqual(600);

    const settings = await run(['settings', '--set', 'threshold=5', '--set', 'enabled=true', '--json']);
    expect(settings.code).toBe(0);
    expect(JSON.parse(settings.stdout)).toMatchObject({ type: 'SETTINGS_UPDATED', status: 200 });
    const sentSettings = JSON.parse(
      receiver.received.find((r) => r.path === '/lifecycle/settings-updated')?.body ?? '{}',
    ) as { settings: { id: string; value: unknown }[] };
    expect(sentSettings.settings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'threshold', value: 5 }),
        expect.objectContaining({ id: 'enabled', value: true }),
      ]),
    );
    const status = await run(['status', 'INACTIVE']);
    expect(status.code).toBe(0);
    expect(
      JSON.parse(receiver.received.find((r) => r.path === '/lifecycle/status-changed')?.body ?? '{}'),
    ).toMatchObject({ status: 'INACTIVE', workspaceId: installed.workspaceId });

    const uninstall = await run(['uninstall']);
    expect(uninstall.code).toBe(0);
    expect(uninstall.stdout).toContain('Uninstalled');
    // The running `serve` (another process) now refuses the installation token.
    await waitFor(async () => (await api()).status === 401, { timeoutMs: 5000 });

    const after = await run(['webhook', 'NEW_TAG']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('no add-on is installed');
  }, 120_000);

  it('exits 1 with a message on bad usage', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command');
    const status = await run(['status', 'MAYBE']);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('ACTIVE or INACTIVE');
    const event = await run(['webhook', 'NOT_AN_EVENT']);
    expect(event.code).toBe(1);
    expect(event.stderr).toContain('not a webhook event');
  }, 60_000);

  it('stops cleanly on SIGTERM', async () => {
    serve.kill('SIGTERM');
    await waitFor(() => serve.exitCode !== null, { timeoutMs: 10_000 });
    expect(serve.exitCode).toBe(0);
  });
});
