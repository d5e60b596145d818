import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import {
  applyRule,
  checkRule,
  destinationProblem,
  guardedLookup,
  isBlockedAddress,
  newSigningSecret,
  sendForward,
  signatureHeaders,
} from './index.js';

const OPEN = { allowedHosts: [] };
const LOCAL = { allowedHosts: ['127.0.0.1'] };

describe('destinations', () => {
  it('blocks loopback, private, link-local, metadata and reserved addresses, v4 and v6', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00:ec2::254',
      'fe80::1',
      '::ffff:10.0.0.1',
      '224.0.0.1',
    ]) {
      expect(isBlockedAddress(ip), ip).toBe(true);
    }
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700::6810:84e5']) expect(isBlockedAddress(ip), ip).toBe(false);
    // Forms that embed an IPv4 address, as the URL parser writes them.
    for (const ip of [
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      '::7f00:1',
      '2002:7f00:1::',
      '64:ff9b:1::a00:1',
      'fec0::1',
    ]) {
      expect(isBlockedAddress(ip), ip).toBe(true);
    }
  });

  it('refuses literal addresses however the URL writes them', () => {
    for (const url of [
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[::127.0.0.1]/',
      'https://2130706433/',
      'https://0x7f.1/',
      'https://017700000001/',
    ]) {
      expect(destinationProblem(url, OPEN), url).toMatch(/loopback|private/);
    }
  });

  it('wants https, no credentials or fragment, and no literal private address unless allow-listed', () => {
    expect(destinationProblem('https://hooks.example.com/in', OPEN)).toBeUndefined();
    expect(destinationProblem('http://hooks.example.com/in', OPEN)).toBe('must be https');
    expect(destinationProblem('https://user:pw@hooks.example.com/', OPEN)).toMatch(/credentials/);
    expect(destinationProblem('https://hooks.example.com/#x', OPEN)).toMatch(/fragment/);
    expect(destinationProblem('https://10.0.0.5/in', OPEN)).toMatch(/private/);
    expect(destinationProblem('https://[::1]/in', OPEN)).toMatch(/private|loopback/);
    expect(destinationProblem('https://localhost/in', OPEN)).toMatch(/loopback/);
    expect(destinationProblem('not a url', OPEN)).toBe('is not a URL');
    // The allow-list admits a local receiver, over http only because it is loopback.
    expect(destinationProblem('http://127.0.0.1:9000/in', LOCAL)).toBeUndefined();
  });
});

describe('rules', () => {
  const opts = { events: ['NEW_TAG', 'TAG_UPDATED'], policy: OPEN };

  it('accepts a rule and normalizes it', () => {
    const { problems, rule } = checkRule(
      {
        name: ' Tags ',
        events: ['NEW_TAG', 'NEW_TAG'],
        filter: 'name != "x"',
        url: 'https://h.example.com/t',
        headers: { 'X-Team': 'a' },
      },
      opts,
    );
    expect(problems).toEqual([]);
    expect(rule).toEqual({
      name: 'Tags',
      events: ['NEW_TAG'],
      filter: 'name != "x"',
      url: 'https://h.example.com/t',
      headers: { 'x-team': 'a' },
      enabled: true,
    });
  });

  it('refuses a bad JSONata expression with its error, an unknown event, a reserved header, a bad URL', () => {
    const { problems } = checkRule(
      {
        name: 'x',
        events: ['NEW_PROJECT'],
        filter: 'name = ',
        transform: '{ "a": }',
        url: 'http://h.example.com',
        headers: { 'Webhook-Id': 'no' },
      },
      opts,
    );
    expect(problems.map((p) => p.field).sort()).toEqual(['events', 'filter', 'headers', 'transform', 'url']);
    expect(problems.find((p) => p.field === 'filter')?.message).toMatch(
      /^is not valid JSONata: .+ \(at character \d+\)$/,
    );
  });

  it('filters and transforms with $event and $workspaceId bound', async () => {
    const rule = { filter: 'archived = false', transform: '{ "tag": name, "event": $event, "ws": $workspaceId }' };
    const ctx = { event: 'NEW_TAG', workspaceId: 'w1' };
    expect(await applyRule(rule, { name: 'A', archived: true }, ctx)).toEqual({ forward: false });
    expect(await applyRule(rule, { name: 'A', archived: false }, ctx)).toEqual({
      forward: true,
      data: { tag: 'A', event: 'NEW_TAG', ws: 'w1' },
    });
    expect(await applyRule({}, { name: 'B' }, ctx)).toEqual({ forward: true, data: { name: 'B' } });
  });

  it('bounds an evaluation: endless recursion, a huge sequence and a huge result all fail fast', async () => {
    const ctx = { event: 'NEW_TAG', workspaceId: 'w1' };
    const started = Date.now();
    await expect(applyRule({ filter: '($f := function($x) { $f($x) }; $f(1))' }, {}, ctx)).rejects.toMatchObject({
      code: expect.stringMatching(/^D101[12]$/),
    });
    await expect(applyRule({ transform: '[1..1000000]' }, {}, ctx)).rejects.toBeDefined();
    await expect(applyRule({ transform: '$pad("", 300000, "x")' }, {}, ctx)).rejects.toThrow(/more than 262144/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('sending', () => {
  let server: Server;
  let base: string;
  const received: { headers: IncomingMessage['headers']; body: string; path: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body, path: req.url ?? '' });
        if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
        else if (req.url === '/big') res.writeHead(200).end('x'.repeat(100_000));
        else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 2_000);
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('signs per Standard Webhooks: the receiver verifies with the standardwebhooks library, under either secret of a rotation', async () => {
    const previous = newSigningSecret();
    const current = newSigningSecret();
    expect(current).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'NEW_TAG', data: { name: 'A' } });
    const headers = signatureHeaders('msg_1', new Date(), body, [current, previous]);
    const res = await sendForward({
      url: `${base}/in`,
      headers,
      body,
      timeoutMs: 2_000,
      maxResponseBytes: 1024,
      policy: LOCAL,
    });
    expect(res).toMatchObject({ ok: true, status: 200, responseText: 'thanks' });
    const got = received.at(-1)!;
    const asReceived = {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    };
    expect(new Webhook(current).verify(got.body, asReceived)).toEqual({ type: 'NEW_TAG', data: { name: 'A' } });
    expect(new Webhook(previous).verify(got.body, asReceived)).toEqual({ type: 'NEW_TAG', data: { name: 'A' } });
    expect(() => new Webhook(newSigningSecret()).verify(got.body, asReceived)).toThrow();
  });

  it('refuses at connect time a name that resolves to a blocked address, unless the host is allow-listed', async () => {
    const resolve = (policy: { allowedHosts: string[] }, host: string) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: string }>((done) =>
        guardedLookup(policy)(host, {}, (err, address) => done({ err, address: String(address) })),
      );
    const blocked = await resolve(OPEN, 'localhost');
    expect(blocked.err?.code).toBe('EBLOCKEDDESTINATION');
    expect(blocked.err?.message).toMatch(/resolves to a blocked address/);
    const allowed = await resolve({ allowedHosts: ['localhost'] }, 'localhost');
    expect(allowed.err).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(allowed.address);
  });

  it('checks a literal address again when sending (the lookup never sees one)', async () => {
    const before = received.length;
    const res = await sendForward({
      url: `${base}/in`,
      headers: {},
      body: '{}',
      timeoutMs: 2_000,
      maxResponseBytes: 1024,
      policy: OPEN,
    });
    expect(res).toMatchObject({ ok: false, error: 'the destination must be https' });
    const literal = await sendForward({
      url: 'https://10.0.0.1/in',
      headers: {},
      body: '{}',
      timeoutMs: 2_000,
      maxResponseBytes: 1024,
      policy: OPEN,
    });
    expect(literal.error).toMatch(/private/);
    expect(received.length).toBe(before);
  });

  it('does not follow redirects, reads at most the cap, and times out', async () => {
    const common = { headers: {}, body: '{}', maxResponseBytes: 1024, policy: LOCAL };
    const redirect = await sendForward({ ...common, url: `${base}/redirect`, timeoutMs: 2_000 });
    expect(redirect).toMatchObject({ ok: false, status: 302, error: 'redirect 302 (not followed)' });
    expect(received.at(-1)?.path).toBe('/redirect');
    const big = await sendForward({ ...common, url: `${base}/big`, timeoutMs: 2_000 });
    expect(big.responseText?.length).toBeLessThanOrEqual(1024);
    const slow = await sendForward({ ...common, url: `${base}/slow`, timeoutMs: 300 });
    expect(slow).toMatchObject({ ok: false });
    expect(slow.error).toMatch(/no answer within 300 ms/);
  });
});
