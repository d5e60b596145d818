import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingSecrets } from '@cap/operator-actions';
import { ADMIN_CSRF_HEADER } from '../src/index.js';
import { ADMIN, basicAuthHeader, expectError, startTestIngress, type TestIngress } from './helpers.js';
import { Seeder } from './seed.js';

/** Forwarding rules through the admin API: checked at save, secrets shown once and stored encrypted. */

const auth = { authorization: basicAuthHeader() };
const write = { ...auth, [ADMIN_CSRF_HEADER]: '1', 'content-type': 'application/json' };
const WS = 'ws-fwd';

let t: TestIngress;
let seed: Seeder;
beforeAll(async () => {
  t = await startTestIngress({ ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password });
  seed = new Seeder(t.config.DATABASE_URL!);
  await seed.installation(WS, 'addon-f');
});
afterAll(async () => {
  await seed?.close();
  await t?.close();
});

/** The problems of a refused rule (the error object carries them besides code and message). */
async function refused(res: Response): Promise<{ field: string; message: string }[]> {
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { code: string; problems: { field: string; message: string }[] } };
  expect(body.error.code).toBe('invalid_rule');
  return body.error.problems;
}

const rulesUrl = (ws = WS) => `${t.url}/admin/api/workspaces/${ws}/forwarding/rules`;
const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: write, body: JSON.stringify(body) });
const RULE = {
  name: 'Tags to the data team',
  events: ['NEW_TAG', 'TAG_UPDATED'],
  filter: 'archived = false',
  transform: '{ "tag": name, "event": $event }',
  url: 'https://hooks.example.com/clockify',
  headers: { Authorization: 'Bearer receiver-key-1' },
};

describe('forwarding rules in the admin API', () => {
  let id: string;
  let secret: string;

  it('creates a rule: its secret is shown once; secret and header values are stored encrypted', async () => {
    const res = await post(rulesUrl(), RULE);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { rule: { id: string; headerNames: string[] }; secret: string };
    ({ secret } = body);
    id = body.rule.id;
    expect(secret).toMatch(/^whsec_/);
    expect(body.rule).toMatchObject({
      name: RULE.name,
      events: RULE.events,
      url: RULE.url,
      headerNames: ['authorization'],
      enabled: true,
    });
    const row = await seed.db.selectFrom('forwarding_rules').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.secret_enc).toMatch(/^enc:/);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain('receiver-key-1');
    const listed = await (await fetch(rulesUrl(), { headers: auth })).text();
    expect(listed).toContain(RULE.name);
    expect(listed).not.toContain(secret);
    expect(listed).not.toContain('receiver-key-1');
  });

  it('refuses a bad JSONata expression at save, with its error, and other bad rules with theirs', async () => {
    const bad = await post(rulesUrl(), { ...RULE, name: 'bad', filter: 'archived = ' });
    expect(await refused(bad)).toEqual([
      { field: 'filter', message: expect.stringMatching(/^is not valid JSONata: /) },
    ]);
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'https://10.0.0.7/in' }, 'url'],
      [{ url: 'http://hooks.example.com/in' }, 'url'],
      [{ events: ['NEW_INVOICE'] }, 'events'],
      [{ headers: { 'Webhook-Signature': 'x' } }, 'headers'],
      [{ transform: '$sum(' }, 'transform'],
    ];
    for (const [change, field] of cases) {
      const res = await post(rulesUrl(), { ...RULE, name: `bad ${field}`, ...change });
      expect((await refused(res)).map((p) => p.field)).toEqual([field]);
    }
    await expectError(await post(rulesUrl(), RULE), 409, 'conflict');
    expect(await seed.db.selectFrom('forwarding_rules').select('name').execute()).toHaveLength(1);
  });

  it('updates a rule and keeps its header values when they are not sent again', async () => {
    const res = await fetch(`${rulesUrl()}/${id}`, {
      method: 'PUT',
      headers: write,
      body: JSON.stringify({ ...RULE, headers: undefined, filter: null, enabled: false }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ filter: null, enabled: false, headerNames: ['authorization'] });
    const row = await seed.db.selectFrom('forwarding_rules').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.headers_enc).toMatch(/^enc:/);
  });

  it('rotates the secret: the new one shown once, the old one still signing during the overlap', async () => {
    const res = await fetch(`${rulesUrl()}/${id}/rotate-secret`, { method: 'POST', headers: write });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { secret: string; rule: { previousSecretValidUntil: string } };
    expect(body.secret).not.toBe(secret);
    const hours = (new Date(body.rule.previousSecretValidUntil).getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    const row = await seed.db.selectFrom('forwarding_rules').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(signingSecrets(t.ingress.context.keyring, { workspaceId: WS, addonId: 'addon-f' }, row)).toEqual([
      body.secret,
      secret,
    ]);
    expect(
      signingSecrets(
        t.ingress.context.keyring,
        { workspaceId: WS, addonId: 'addon-f' },
        row,
        new Date(Date.now() + 25 * 3_600_000),
      ),
    ).toEqual([body.secret]);
  });

  it('deletes a rule; unknown rules and workspaces answer 404; writes need the CSRF header', async () => {
    await expectError(await fetch(`${rulesUrl()}/${id}`, { method: 'DELETE', headers: auth }), 403, 'csrf_rejected');
    expect((await fetch(`${rulesUrl()}/${id}`, { method: 'DELETE', headers: write })).status).toBe(204);
    await expectError(await fetch(`${rulesUrl()}/${id}`, { headers: auth }), 404, 'not_found');
    await expectError(await fetch(`${rulesUrl()}/${id}`, { method: 'DELETE', headers: write }), 404, 'not_found');
    await expectError(await fetch(rulesUrl('ws-none'), { headers: auth }), 404, 'not_found');
  });
});
