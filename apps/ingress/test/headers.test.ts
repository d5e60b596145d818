import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basicAuthHeader, expectError, sendWebhook, startTestIngress, type TestIngress } from './helpers.js';

/**
 * Response headers of the ingress: nothing names the framework, component pages carry helmet's
 * headers with framing allowed for Clockify only, and TRUST_PROXY decides whether X-Forwarded-*
 * headers take part in the admin CSRF check.
 */

const CREDENTIALS = { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password };
const auth = { authorization: basicAuthHeader() };
const ADDON_ID = 'addon-headers';

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A request through node:http, which (unlike fetch) sends the Host header it is given: a reverse
 * proxy in front of the ingress forwards the public host this way.
 */
function request(
  t: TestIngress,
  path: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${t.url}${path}`,
      { method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** An admin write that answers 202 once it is past basic auth and the CSRF guard. */
function adminWrite(t: TestIngress, headers: Record<string, string>): Promise<Answer> {
  return request(t, '/admin/api/dead-letters/replay-all', { method: 'POST', headers: { ...auth, ...headers } });
}

function expectCsrfRejected(a: Answer): void {
  expect(a.status, a.body).toBe(403);
  expect((JSON.parse(a.body) as { error: { code: string } }).error.code).toBe('csrf_rejected');
}

function frameAncestors(csp: string | null): string[] {
  return (
    /(?:^|;\s*)frame-ancestors ([^;]+)/
      .exec(csp ?? '')?.[1]
      ?.trim()
      .split(/\s+/) ?? []
  );
}

describe('X-Powered-By and security headers', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress(CREDENTIALS);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('no answer names the framework (x-powered-by): pages, ops, manifest, Bull Board, admin API, webhook and lifecycle refusals', async () => {
    const token = await t.userToken('ws-headers', ADDON_ID);
    const answers: Array<[string, Response, number]> = [
      ['sidebar', await fetch(`${t.url}/ui/sidebar?auth_token=${encodeURIComponent(token)}`), 200],
      ['sidebar without a token', await fetch(`${t.url}/ui/sidebar`), 401],
      ['/health', await fetch(`${t.url}/health`), 200],
      ['/ready', await fetch(`${t.url}/ready`), 200],
      ['/metrics (ops port only)', await fetch(`${t.url}/metrics`), 404],
      ['ops /ready', await fetch(`${t.opsUrl}/ready`), 200],
      ['ops /metrics', await fetch(`${t.opsUrl}/metrics`), 200],
      ['/manifest', await fetch(`${t.url}/manifest`), 200],
      ['/manifest.json', await fetch(`${t.url}/manifest.json`), 200],
      ['icon', await fetch(`${t.url}/assets/icon.svg`), 200],
      // Bull Board is an express app of its own: it must not bring express's default back.
      ['bull board', await fetch(`${t.url}/admin/queues`, { headers: auth }), 200],
      ['bull board api', await fetch(`${t.url}/admin/queues/api/queues`, { headers: auth }), 200],
      ['admin api', await fetch(`${t.url}/admin/api/installations`, { headers: auth }), 200],
      ['admin api without credentials', await fetch(`${t.url}/admin/api/installations`), 401],
      [
        'admin write without the CSRF header',
        await fetch(`${t.url}/admin/api/dead-letters/replay-all`, { method: 'POST', headers: auth }),
        403,
      ],
      ['webhook without a token', await sendWebhook(t, { body: { id: 'x', workspaceId: 'ws-headers' } }), 401],
      ['webhook with a bad token', await sendWebhook(t, { token: 'not-a-jwt', body: { id: 'x' } }), 401],
      ['webhook GET', await fetch(`${t.url}/webhooks/new-tag`), 405],
      ['unknown webhook route', await sendWebhook(t, { route: 'no-such-event', body: {} }), 404],
      ['lifecycle without a body', await fetch(`${t.url}/lifecycle/installed`, { method: 'POST' }), 415],
      [
        'lifecycle without a token',
        await fetch(`${t.url}/lifecycle/status-changed`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }),
        401,
      ],
      ['unknown path', await fetch(`${t.url}/nothing-here`), 404],
    ];
    for (const [name, res, status] of answers) {
      expect(res.status, name).toBe(status);
      expect(res.headers.get('x-powered-by'), name).toBeNull();
      await res.body?.cancel();
    }
  });

  it('the sidebar carries helmet’s headers, framing allowed for Clockify by CSP instead of X-Frame-Options', async () => {
    const token = await t.userToken('ws-headers', ADDON_ID);
    const res = await fetch(`${t.url}/ui/sidebar?auth_token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy');
    expect(csp).toMatch(/(?:^|;\s*)default-src 'none'(?:;|$)/);
    const ancestors = frameAncestors(csp);
    expect(ancestors).toContain('https://*.clockify.me');
    expect(ancestors).not.toContain('*');
    expect(ancestors).not.toContain("'none'");
    // Framing is governed by frame-ancestors only: X-Frame-Options would forbid Clockify's frame.
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
    // Clockify's page loads it from another origin.
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('x-permitted-cross-domain-policies')).toBe('none');
    await res.body?.cancel();

    // Refusals of the page carry the same headers.
    const refused = await fetch(`${t.url}/ui/sidebar`);
    await expectError(refused, 401, 'missing_token');
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    expect(refused.headers.get('x-frame-options')).toBeNull();
  });

  it('admin pages cannot be framed at all', async () => {
    for (const path of ['/admin/queues', '/admin/api/installations']) {
      const res = await fetch(`${t.url}${path}`, { headers: auth });
      expect(res.status, path).toBe(200);
      expect(frameAncestors(res.headers.get('content-security-policy')), path).toEqual(["'none'"]);
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      await res.body?.cancel();
    }
  });
});

/** The public host a reverse proxy serves the admin surface on; not BASE_URL's, which is always allowed. */
const PUBLIC_HOST = 'admin.mirror.example.test';
const PUBLIC_ORIGIN = `https://${PUBLIC_HOST}`;
const BASE_URL = 'https://mirror.example.test';

describe('TRUST_PROXY unset: X-Forwarded-* headers are ignored by the admin CSRF check', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({ ...CREDENTIALS, BASE_URL });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a cross-origin write does not become same-origin by claiming https or another host', async () => {
    expect(t.config.TRUST_PROXY).toBe('false');
    // The origin the ingress itself is reached at, only claimed to be https.
    expectCsrfRejected(
      await adminWrite(t, { origin: t.url.replace(/^http:/, 'https:'), 'x-forwarded-proto': 'https' }),
    );
    // Forwarded headers naming the attacker's origin as this host.
    expectCsrfRejected(
      await adminWrite(t, {
        origin: 'https://evil.example',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
      }),
    );
    // Exactly what a TLS-terminating proxy that keeps the Host header sends: without trust the
    // request is plain http, so an https Origin is another origin.
    expectCsrfRejected(
      await adminWrite(t, {
        host: PUBLIC_HOST,
        origin: PUBLIC_ORIGIN,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': PUBLIC_HOST,
      }),
    );
    // What does pass: the request's own origin, BASE_URL's origin, or the custom header.
    expect((await adminWrite(t, { origin: t.url })).status).toBe(202);
    expect((await adminWrite(t, { origin: BASE_URL })).status).toBe(202);
    expect((await adminWrite(t, { 'x-admin-request': '1' })).status).toBe(202);
  });
});

describe.each([
  ['true', 'true'],
  ['loopback', 'loopback'],
  ['a hop count', '1'],
  ['an address list', '10.9.8.7, 127.0.0.1'],
])('TRUST_PROXY as %s: a proxy’s X-Forwarded-Proto makes its https origin same-origin', (_name, value) => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({ ...CREDENTIALS, BASE_URL, TRUST_PROXY: value });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('accepts the proxied same-origin write, still refuses cross-origin ones', async () => {
    const proxied = { host: PUBLIC_HOST, 'x-forwarded-proto': 'https', 'x-forwarded-host': PUBLIC_HOST };
    expect((await adminWrite(t, { ...proxied, origin: PUBLIC_ORIGIN })).status).toBe(202);
    expectCsrfRejected(await adminWrite(t, { ...proxied, origin: 'https://evil.example' }));
    // The scheme must match too: the proxy said https.
    expectCsrfRejected(await adminWrite(t, { ...proxied, origin: `http://${PUBLIC_HOST}` }));
    expectCsrfRejected(await adminWrite(t, proxied));
    // A proxy that rewrites Host to the upstream's address and says the public one in X-Forwarded-Host.
    const rewriting = { 'x-forwarded-proto': 'https', 'x-forwarded-host': PUBLIC_HOST };
    expect((await adminWrite(t, { ...rewriting, origin: PUBLIC_ORIGIN })).status).toBe(202);
    expectCsrfRejected(await adminWrite(t, { ...rewriting, origin: 'https://evil.example' }));
  });
});

describe('TRUST_PROXY naming other proxies', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({ ...CREDENTIALS, BASE_URL, TRUST_PROXY: '10.9.8.7' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('does not trust X-Forwarded-Proto from a peer that is not one of them', async () => {
    expectCsrfRejected(
      await adminWrite(t, {
        host: PUBLIC_HOST,
        origin: PUBLIC_ORIGIN,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': PUBLIC_HOST,
      }),
    );
    expect((await adminWrite(t, { host: PUBLIC_HOST, origin: `http://${PUBLIC_HOST}` })).status).toBe(202);
  });
});
