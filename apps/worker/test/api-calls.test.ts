import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listApiCalls } from '@cap/db';
import { startAppProcess } from '@cap/testing';
import { distEntry } from '../../../test/dist.js';
import { startStack, type Stack } from './stack.js';

const ADMIN = { username: 'auditor', password: 'a-long-admin-password' };
const auth = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

let s: Stack;
beforeAll(async () => {
  s = await startStack({
    sizes: { users: 3, projects: 3, tasksPerProject: 1, tags: 5, clients: 2, entries: 10 },
    workerEnv: { AUTO_BOOTSTRAP: 'false' },
    ingressEnv: {
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      CLOCKIFY_API_ALLOWED_HOSTS: '127.0.0.1',
    },
  });
  await s.installAndWait();
  // The install's follow-ups (settings, webhooks) call the mock too: let them finish first.
  await s.settle();
});
afterAll(async () => {
  await s?.close();
});

async function call(body: unknown, workspaceId = s.workspaceId) {
  const res = await fetch(`${s.ingressUrl}/admin/api/workspaces/${workspaceId}/clockify`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json', 'x-admin-request': '1' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as CallAnswer };
}

/** The route's answer: a call's result, or `error` with the audit id and the problems. */
interface CallAnswer {
  readonly auditId?: string;
  readonly operationId?: string;
  readonly status?: number;
  readonly data?: unknown;
  readonly error?: {
    code: string;
    message: string;
    auditId?: string;
    problems?: unknown[];
    clockifyStatus?: number;
  };
}

/**
 * Requests the mock API answered for the workspace, for the operations these tests call (the
 * install's own follow-ups call others).
 */
const mockRequests = () =>
  ['getTags', 'getProject', 'createNewTag'].reduce(
    (n, operation) => n + s.sim.api!.stats.count({ workspaceId: s.workspaceId, operation }),
    0,
  );
const installationToken = () => s.sim.installation({ workspaceId: s.workspaceId }).installationToken;

describe('POST /admin/api/workspaces/:workspaceId/clockify', () => {
  it('runs a GET through the limiter with the installation token and records it without the token', async () => {
    const before = mockRequests();
    const res = await call({ operation: 'getTags', query: { 'page-size': 50 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ operationId: 'getTags', method: 'GET', status: 200 });
    const names = (res.body.data as { name: string }[]).map((t) => t.name).sort();
    expect(names).toEqual(
      s.sim.store
        .listTags(s.workspaceId)
        .map((t) => t.name)
        .sort(),
    );
    expect(mockRequests()).toBe(before + 1);

    const [row] = await listApiCalls(s.ingress.context.database.db, { workspaceId: s.workspaceId, limit: 1 });
    expect(row).toMatchObject({
      id: Number(res.body.auditId),
      actor_kind: 'admin',
      actor: ADMIN.username,
      operation_id: 'getTags',
      method: 'GET',
      path_template: '/v1/workspaces/{workspaceId}/tags',
      outcome: 'ok',
      status: 200,
      request: { query: { 'page-size': 50 } },
    });
    expect(row!.response).toContain(names[0]);
    expect(JSON.stringify(row)).not.toContain(installationToken());

    // The limiter took a slot of this workspace (its wait histogram counts every grant).
    const metrics = await (await fetch(`${s.ingress.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^clockify_rate_limit_wait_seconds_count\S* [1-9]/m);
    expect(metrics).toMatch(/^clockify_api_calls_total\{operation="getTags",status="200",actor_kind="admin"[^}]*\} 1/m);
  });

  it('refuses each kind of bad call with the problem named, sends nothing, and records the refusal', async () => {
    const before = mockRequests();
    const cases: [unknown, string, RegExp][] = [
      [{ operation: 'getEverything' }, 'invalid_call', /not an operation of the Clockify API spec/],
      [{ operation: 'getProject' }, 'invalid_call', /path "projectId": is required/],
      [{ operation: 'getTags', query: { 'page-size': 'lots' } }, 'invalid_call', /must be an integer/],
      [{ operation: 'getTags', query: { colour: 'red' } }, 'invalid_call', /not a query parameter/],
      [
        { operation: 'createNewTag', allowWrite: true, body: { name: 7 } },
        'invalid_call',
        /body "\/name": must be string/,
      ],
      [{ operation: 'createNewTag', allowWrite: true }, 'invalid_call', /body: is required/],
      [{ operation: 'createNewTag', body: { name: 'no write flag' } }, 'write_not_allowed', /writes need allowWrite/],
    ];
    for (const [body, code, message] of cases) {
      const res = await call(body);
      expect(res.status, JSON.stringify(body)).toBe(code === 'write_not_allowed' ? 403 : 400);
      expect(res.body.error!.code).toBe(code);
      expect(res.body.error!.message).toMatch(message);
      expect(res.body.error!.auditId).toMatch(/^\d+$/);
      if (code === 'invalid_call') expect(res.body.error!.problems?.length).toBeGreaterThan(0);
    }
    expect(mockRequests()).toBe(before);
    const rows = await listApiCalls(s.ingress.context.database.db, { workspaceId: s.workspaceId, limit: cases.length });
    expect(rows.map((r) => r.outcome)).toEqual(cases.map(() => 'refused'));
    // A shape the route cannot read is a plain 400 (nothing to audit: no operation).
    expect((await call({ operation: 42 })).status).toBe(400);
  });

  it('allows a write only with allowWrite, and answers 404 for a workspace without an installation', async () => {
    const res = await call({ operation: 'createNewTag', allowWrite: true, body: { name: 'From the admin API' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe(201);
    expect(s.sim.store.listTags(s.workspaceId).map((t) => t.name)).toContain('From the admin API');
    const none = await call({ operation: 'getTags' }, 'f'.repeat(24));
    expect(none.status).toBe(404);
    expect(none.body.error!.code).toBe('not_active');
  });

  it('sends a write once (Clockify may have applied one whose answer failed) and retries a read', async () => {
    const faults = s.sim.api!.faults;
    faults.set('createNewTag', { failNext: 1, failStatus: 503 });
    const before = s.sim.api!.stats.count({ workspaceId: s.workspaceId, operation: 'createNewTag' });
    const write = await call({ operation: 'createNewTag', allowWrite: true, body: { name: 'Sent once' } });
    expect(write.status).toBe(502);
    expect(write.body.error!.clockifyStatus).toBe(503);
    expect(s.sim.api!.stats.count({ workspaceId: s.workspaceId, operation: 'createNewTag' })).toBe(before + 1);
    faults.set('getTags', { failNext: 1, failStatus: 503 });
    expect((await call({ operation: 'getTags' })).status).toBe(200);
    faults.clear();
  });

  it('passes a Clockify error through as 502 with its status', async () => {
    const res = await call({ operation: 'getProject', path: { projectId: 'a'.repeat(24) } });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'clockify_error', clockifyStatus: expect.any(Number) });
  });

  it('needs admin credentials and the CSRF header', async () => {
    const url = `${s.ingressUrl}/admin/api/workspaces/${s.workspaceId}/clockify`;
    const body = JSON.stringify({ operation: 'getTags' });
    expect((await fetch(url, { method: 'POST', body })).status).toBe(401);
    const noCsrf = await fetch(url, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body,
    });
    expect(noCsrf.status).toBe(403);
  });

  it('lists the recorded calls and the explorer operations', async () => {
    const calls = await fetch(`${s.ingressUrl}/admin/api/clockify/calls?workspaceId=${s.workspaceId}&limit=3`, {
      headers: { authorization: auth },
    });
    const listed = (await calls.json()) as { calls: { operationId: string; actor: { kind: string } }[] };
    expect(listed.calls).toHaveLength(3);
    expect(listed.calls[0]).toMatchObject({ actor: { kind: 'admin' } });

    const ops = await fetch(`${s.ingressUrl}/admin/api/clockify/operations`, { headers: { authorization: auth } });
    const explorer = (await ops.json()) as {
      operations: number;
      groups: { tag: string; operations: { operationId: string; params: { name: string }[]; write: boolean }[] }[];
    };
    expect(explorer.operations).toBeGreaterThan(150);
    const tags = explorer.groups.find((g) => g.tag === 'Tag')!;
    const getTags = tags.operations.find((o) => o.operationId === 'getTags')!;
    expect(getTags.write).toBe(false);
    expect(getTags.params.map((p) => p.name)).toContain('archived');
    expect(getTags.params.map((p) => p.name)).not.toContain('workspaceId');
  });
});

describe('npm run cli -- api', () => {
  async function cli(...args: string[]) {
    const p = startAppProcess(distEntry('worker', 'cli/index.js'), s.workerProcessEnv(), args);
    const code = await p.exited;
    return { code, out: p.output.join('\n') };
  }

  it('prints the response and the audit id; refuses a write without --allow-write', async () => {
    const ok = await cli('api', 'getTags', '--workspace', s.workspaceId, '--query', 'page-size=2');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/GET getTags: 200 in \d+ ms \(audit id \d+\)/);
    expect(JSON.parse(ok.out.slice(ok.out.indexOf('['), ok.out.lastIndexOf(']') + 1))).toHaveLength(2);

    const dir = mkdtempSync(join(tmpdir(), 'cap-cli-api-'));
    const file = join(dir, 'tag.json');
    writeFileSync(file, JSON.stringify({ name: 'From the CLI' }));
    const refused = await cli('api', 'createNewTag', '--workspace', s.workspaceId, '--body', file);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/writes need allowWrite \(audit id \d+\)/);
    const written = await cli('api', 'createNewTag', '--workspace', s.workspaceId, '--body', file, '--allow-write');
    expect(written.code).toBe(0);
    expect(s.sim.store.listTags(s.workspaceId).map((t) => t.name)).toContain('From the CLI');

    const bad = await cli('api', 'getProject', '--workspace', s.workspaceId);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('path projectId: is required');
    const rows = await listApiCalls(s.ingress.context.database.db, { workspaceId: s.workspaceId, limit: 4 });
    expect(rows.map((r) => r.actor_kind)).toEqual(['cli', 'cli', 'cli', 'cli']);
    expect(rows.every((r) => r.actor.startsWith('cli:'))).toBe(true);
  }, 60_000);
});
