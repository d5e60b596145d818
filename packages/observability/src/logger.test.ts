import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { requestIdFrom } from './request-id.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

const SECRET = 'S3cr3t-value-that-must-never-appear';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGRvbiIsImlzcyI6ImNsb2NraWZ5In0.c2lnbmF0dXJlLXBhcnQ';

describe('logger redaction', () => {
  it('finds no secret in a structure holding every redacted key and a URL with auth_token', () => {
    const { lines, stream } = capture();
    const log = createLogger({ name: 'test', level: 'trace' }, stream);
    const structure = {
      authToken: SECRET,
      token: SECRET,
      authorization: `Bearer ${SECRET}`,
      password: SECRET,
      nested: {
        Authorization: SECRET,
        deeper: { AUTHTOKEN: SECRET, list: [{ token: SECRET }] },
      },
      headers: {
        'clockify-signature': SECRET,
        'x-addon-lifecycle-token': SECRET,
        'x-addon-token': SECRET,
        'content-type': 'application/json',
      },
      url: `/ui/sidebar?theme=DARK&auth_token=${SECRET}&lang=en`,
      webhooks: [{ path: '/webhooks/new-tag', webhookType: 'ADDON', authToken: SECRET }],
      note: `a token pasted in text: ${JWT}`,
      dsn: `postgres://user:${SECRET}@db:5432/app`,
    };
    log.info(structure, 'request with %s', `/ui/sidebar?auth_token=${SECRET}`);
    log.info(`message carrying ${JWT}`);
    log.error({ err: Object.assign(new Error(`failed for auth_token=${SECRET}`), { token: SECRET }) }, 'boom');
    log.child({ token: SECRET }).warn('child');

    expect(lines).toHaveLength(4);
    const all = lines.join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(JWT);
    expect(all).not.toContain('c2lnbmF0dXJlLXBhcnQ');

    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first.authToken).toBe('[REDACTED]');
    expect((first.headers as Record<string, string>)['content-type']).toBe('application/json');
    expect(first.url).toBe('/ui/sidebar?theme=DARK&auth_token=[REDACTED]&lang=en');
    expect(first.msg).toBe('request with /ui/sidebar?auth_token=[REDACTED]');
    expect(first.dsn).toBe('postgres://user:[REDACTED]@db:5432/app');
    expect(first.level).toBe('info');
    expect(first.service).toBe('test');
  });
});

describe('metrics', () => {
  it('keeps a registry per instance and renders Prometheus text', async () => {
    const a = new Metrics({ app: 'a', defaultMetrics: false });
    const b = new Metrics({ app: 'b', defaultMetrics: false });
    a.counter('things_total', 'Things', ['kind']).inc({ kind: 'x' });
    expect(a.counter('things_total', 'Things', ['kind'])).toBe(a.registry.getSingleMetric('things_total'));
    const text = (await a.render()).body;
    expect(text).toContain('things_total{kind="x",app="a"} 1');
    expect((await b.render()).body).not.toContain('things_total');
  });
});

describe('request ids', () => {
  it('keeps a safe incoming id and replaces anything else', () => {
    expect(requestIdFrom('abc-123')).toBe('abc-123');
    expect(requestIdFrom('bad id\nwith newline')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('x'.repeat(200))).toMatch(/^[0-9a-f-]{36}$/);
  });
});
