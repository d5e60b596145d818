import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where forwarded events may go. A destination is an HTTPS URL whose host does not resolve to a
 * loopback, private, link-local, carrier-grade NAT, multicast, reserved or cloud-metadata address.
 * The address is checked again when the connection is made (the guarded `lookup` below), so a
 * name that resolves to a public address at save time and to a private one later (DNS rebinding)
 * is refused at connect time. Hosts on the allow-list (`FORWARDING_ALLOWED_HOSTS`, for tests and
 * private deployments) skip the address check, and may use plain http when they are loopback.
 */

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ['64:ff9b::', 96], // NAT64 maps IPv4 (private ones too)
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 32], // Teredo embeds an IPv4 address
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4 embeds an IPv4 address
  ['fc00::', 7], // unique local, including fd00:ec2::254 (cloud metadata)
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is one forwarding must never connect to. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    // IPv4-mapped addresses are checked as the IPv4 address they carry, in either notation
    // (`::ffff:127.0.0.1`, or `::ffff:7f00:1` as the URL parser writes it).
    const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (dotted) return BLOCKED.check(dotted[1]!, 'ipv4');
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
    if (hex) {
      const hi = parseInt(hex[1]!, 16);
      const lo = parseInt(hex[2]!, 16);
      return BLOCKED.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
    }
    return BLOCKED.check(address, 'ipv6');
  }
  return BLOCKED.check(address, 'ipv4');
}

export interface DestinationPolicy {
  /** Hosts exempt from the address check (exact names, or `*.example.com` for any depth below). */
  readonly allowedHosts: readonly string[];
}

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allowed.some((a) => {
    const rule = a.toLowerCase();
    return rule.startsWith('*.') ? h.endsWith(rule.slice(1)) : h === rule;
  });
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1']);

/**
 * Why a destination URL is refused, or undefined when it is acceptable: not a URL, not https (http
 * only for an allow-listed loopback host), credentials in it, a fragment, or a literal address
 * that is blocked. Names are resolved at connect time, not here.
 */
export function destinationProblem(raw: string, policy: DestinationPolicy): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2000)
    return 'must be a URL of at most 2000 characters';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  const allowed = hostAllowed(url.hostname, policy.allowedHosts);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'https:') {
    if (!(url.protocol === 'http:' && allowed && LOOPBACK_NAMES.has(host))) return 'must be https';
  }
  if (url.username || url.password) return 'must not carry credentials (use a header)';
  if (url.hash) return 'must not have a fragment';
  if (!allowed && isIP(host) !== 0 && isBlockedAddress(host)) {
    return 'points to a loopback, private, link-local or reserved address';
  }
  if (!allowed && (host === 'localhost' || host.endsWith('.localhost'))) return 'points to a loopback address';
  return undefined;
}

export class BlockedDestinationError extends Error {
  override name = 'BlockedDestinationError';
  readonly code = 'EBLOCKEDDESTINATION';
}

/**
 * A `lookup` for http(s).request that resolves the name and refuses the connection when any of its
 * addresses is blocked (unless the host is allow-listed): the check happens at connect time, on the
 * addresses actually used.
 */
export function guardedLookup(policy: DestinationPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const list = Array.isArray(addresses) ? addresses : [];
      if (!hostAllowed(hostname, policy.allowedHosts)) {
        const bad = list.find((a) => isBlockedAddress(a.address));
        if (bad || list.length === 0) {
          return callback(
            new BlockedDestinationError(`${hostname} resolves to a blocked address`) as NodeJS.ErrnoException,
            '',
            0,
          );
        }
      }
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}
