import { HostNotAllowedError } from './errors.js';

/**
 * The outbound allow-list (`CLOCKIFY_API_ALLOWED_HOSTS`): the installation token is worth a
 * workspace admin, and the URL it is sent to comes from a token claim or a lifecycle payload, so
 * every request is checked before anything leaves the process.
 *
 * Entries are hosts, optionally with a port (`api.clockify.me`, `*.clockify.me`,
 * `localhost:8090`, `[::1]:8090`). `*.x` matches any depth below `x` but not `x` itself; any
 * other entry matches exactly that host. An entry without a port allows any port of the host
 * (whoever controls a host controls its ports); with a port, only that port. https is required,
 * except for loopback hosts (localhost, 127.0.0.0/8, ::1), which may use http.
 */

const DEFAULT_PORTS: Record<string, string> = { 'https:': '443', 'http:': '80' };

interface AllowedHost {
  readonly host: string;
  readonly wildcard: boolean;
  readonly port: string | undefined;
}

/** Host names as the WHATWG URL parser prints them, without IPv6 brackets. */
function bare(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = bare(hostname.toLowerCase());
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function parseEntry(raw: string): AllowedHost | undefined {
  let entry = raw.trim().toLowerCase();
  if (entry === '') return undefined;
  let port: string | undefined;
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed) {
    entry = bracketed[1]!;
    port = bracketed[2];
  } else if ((entry.match(/:/g) ?? []).length === 1) {
    const [host, p] = entry.split(':') as [string, string];
    if (!/^\d{1,5}$/.test(p)) return undefined;
    entry = host;
    port = p;
  }
  if (port !== undefined) port = String(Number(port));
  const wildcard = entry.startsWith('*.');
  const host = wildcard ? entry.slice(2) : entry;
  // A bare `*`, `*.` or a wildcard in the middle would silently allow far more than intended.
  if (host === '' || host.includes('*') || host.startsWith('.') || host.endsWith('.')) return undefined;
  return { host, wildcard, port };
}

function entryMatches(entry: AllowedHost, host: string, port: string): boolean {
  if (entry.port !== undefined && entry.port !== port) return false;
  return entry.wildcard ? host.endsWith(`.${entry.host}`) : host === entry.host;
}

/** Why a URL may not receive the token, or undefined when it may. */
export function hostViolation(url: string | URL, allowedHosts: readonly string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return 'not a valid URL';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'URLs with credentials are refused';
  const host = bare(parsed.hostname);
  if (parsed.protocol !== 'https:') {
    if (parsed.protocol !== 'http:') return `scheme ${parsed.protocol} is not allowed`;
    if (!isLoopbackHost(host)) return 'https is required for non-loopback hosts';
  }
  const port = parsed.port || DEFAULT_PORTS[parsed.protocol]!;
  for (const raw of allowedHosts) {
    const entry = parseEntry(raw);
    if (entry && entryMatches(entry, host, port)) return undefined;
  }
  return 'host is not in CLOCKIFY_API_ALLOWED_HOSTS';
}

export function isHostAllowed(url: string | URL, allowedHosts: readonly string[]): boolean {
  return hostViolation(url, allowedHosts) === undefined;
}

/** Throws {@link HostNotAllowedError} naming the host (never the full URL, which may hold credentials). */
export function assertHostAllowed(url: string | URL, allowedHosts: readonly string[], operation?: string): void {
  const reason = hostViolation(url, allowedHosts);
  if (reason === undefined) return;
  let host = '(unparseable URL)';
  try {
    host = (typeof url === 'string' ? new URL(url) : url).host;
  } catch {
    // keep the placeholder: the raw string could be anything
  }
  throw new HostNotAllowedError(host, reason, operation);
}
