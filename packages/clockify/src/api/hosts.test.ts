import { describe, expect, it } from 'vitest';
import { HostNotAllowedError } from './errors.js';
import { assertHostAllowed, hostViolation, isHostAllowed, isLoopbackHost } from './hosts.js';

const DEFAULT = ['*.clockify.me'];

describe('isHostAllowed with the default *.clockify.me', () => {
  it.each([
    'https://api.clockify.me/api',
    'https://euc1.clockify.me/api/v1/workspaces',
    'https://reports.api.clockify.me/v1',
    'https://developer.clockify.me/api',
    'https://API.CLOCKIFY.ME/api',
    'https://api.clockify.me:8443/api',
  ])('allows %s', (url) => {
    expect(isHostAllowed(url, DEFAULT)).toBe(true);
  });

  it.each([
    ['the bare domain (a wildcard covers only names below it)', 'https://clockify.me/api'],
    ['a suffix without the dot', 'https://evilclockify.me/api'],
    ['the domain as a prefix of another', 'https://clockify.me.evil.com/api'],
    ['a label that merely contains it', 'https://api.clockify.me-evil.com/api'],
    ['userinfo that looks like the host', 'https://api.clockify.me@evil.com/api'],
    ['userinfo with a password', 'https://user:pw@api.clockify.me/api'],
    ['http to a public host', 'http://api.clockify.me/api'],
    ['a trailing-dot host', 'https://api.clockify.me./api'],
    ['another scheme', 'ftp://api.clockify.me/api'],
    ['a relative URL', '/api/v1/workspaces'],
    ['garbage', 'not a url'],
    ['an encoded dot trick', 'https://api.clockify%2Eme.evil.com/'],
  ])('refuses %s', (_why, url) => {
    expect(isHostAllowed(url, DEFAULT)).toBe(false);
  });
});

describe('isHostAllowed entry forms', () => {
  it('matches an exact host only itself, not its subdomains', () => {
    expect(isHostAllowed('https://api.clockify.me/x', ['api.clockify.me'])).toBe(true);
    expect(isHostAllowed('https://eu.api.clockify.me/x', ['api.clockify.me'])).toBe(false);
    expect(isHostAllowed('https://clockify.me/x', ['api.clockify.me'])).toBe(false);
  });

  it('matches any depth below a wildcard', () => {
    expect(isHostAllowed('https://a.b.c.clockify.me/x', ['*.clockify.me'])).toBe(true);
    expect(isHostAllowed('https://a.b.api.clockify.me/x', ['*.api.clockify.me'])).toBe(true);
    expect(isHostAllowed('https://api.clockify.me/x', ['*.api.clockify.me'])).toBe(false);
  });

  it('restricts the port when the entry names one, with default ports filled in', () => {
    expect(isHostAllowed('https://api.clockify.me/x', ['api.clockify.me:443'])).toBe(true);
    expect(isHostAllowed('https://api.clockify.me:8443/x', ['api.clockify.me:443'])).toBe(false);
    expect(isHostAllowed('http://localhost:8090/x', ['localhost:8090'])).toBe(true);
    expect(isHostAllowed('http://localhost:8091/x', ['localhost:8090'])).toBe(false);
    expect(isHostAllowed('http://localhost/x', ['localhost:80'])).toBe(true);
    expect(isHostAllowed('https://x.clockify.me:9000/x', ['*.clockify.me:9000'])).toBe(true);
    expect(isHostAllowed('https://x.clockify.me/x', ['*.clockify.me:9000'])).toBe(false);
  });

  it('ignores case and surrounding spaces in entries', () => {
    expect(isHostAllowed('https://api.clockify.me/x', ['  *.CLOCKIFY.ME '])).toBe(true);
  });

  it('never treats malformed or over-broad entries as matching everything', () => {
    for (const entry of ['*', '*.', '', 'a*.clockify.me', '*.*.me', '.clockify.me', 'host:port', 'host:99999999']) {
      expect(isHostAllowed('https://api.clockify.me/x', [entry]), entry).toBe(false);
      expect(isHostAllowed('https://evil.com/x', [entry]), entry).toBe(false);
    }
    expect(isHostAllowed('https://api.clockify.me/x', [])).toBe(false);
  });
});

describe('loopback hosts', () => {
  it('recognises localhost, 127.0.0.0/8 and ::1 only', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['localhost.evil.com', '128.0.0.1', '10.0.0.1', '::2', '0.0.0.0', 'api.clockify.me']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('allows http for listed loopback hosts, with IPv6 and shorthand IPv4 forms', () => {
    expect(isHostAllowed('http://127.0.0.1:5000/api', ['127.0.0.1'])).toBe(true);
    expect(isHostAllowed('http://127.1:5000/api', ['127.0.0.1'])).toBe(true); // the URL parser expands 127.1
    expect(isHostAllowed('http://[::1]:5000/api', ['::1'])).toBe(true);
    expect(isHostAllowed('http://[::1]:5000/api', ['[::1]:5000'])).toBe(true);
    expect(isHostAllowed('http://[::1]:5001/api', ['[::1]:5000'])).toBe(false);
    expect(isHostAllowed('http://[0:0:0:0:0:0:0:1]/api', ['::1'])).toBe(true);
    expect(isHostAllowed('http://LOCALHOST:5000/api', ['localhost'])).toBe(true);
  });

  it('still requires loopback hosts to be listed', () => {
    expect(isHostAllowed('http://127.0.0.1:5000/api', DEFAULT)).toBe(false);
    expect(isHostAllowed('http://localhost:5000/api', DEFAULT)).toBe(false);
  });

  it('does not let http through for a listed public host', () => {
    expect(hostViolation('http://api.clockify.me/api', ['api.clockify.me'])).toMatch(/https is required/);
  });
});

describe('assertHostAllowed', () => {
  it('throws a non-retryable error naming the host but not the credentials', () => {
    let error: unknown;
    try {
      assertHostAllowed('https://api.clockify.me:secret-pass@evil.com/api', DEFAULT, 'GET /v1/x');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HostNotAllowedError);
    const e = error as HostNotAllowedError;
    expect(e.host).toBe('evil.com');
    expect(e.retryable).toBe(false);
    expect(e.operation).toBe('GET /v1/x');
    expect(e.message).toContain('evil.com');
    expect(e.message).not.toContain('secret-pass');
  });

  it('passes silently for an allowed URL', () => {
    expect(() => assertHostAllowed('https://api.clockify.me/api/v1/x', DEFAULT)).not.toThrow();
  });
});
