import type { Redis } from 'ioredis';

/**
 * Which token hashes are stored as an installation's webhook or installation token, mirrored in
 * Redis for the ingress. Clockify signs every kind of token with the same key and issuer, and a
 * lifecycle token carries no claim that sets it apart from a webhook token, so the only way to
 * refuse "a webhook token on a lifecycle route" at the edge (401, not a silent skip later) is to
 * know the stored hashes. The ingress reads Redis only, never Postgres, on that path.
 *
 * Postgres stays the authority: the worker checks the same thing in the apply transaction. A lost
 * or stale registry (Redis restarted without AOF) only moves the refusal from the edge to the
 * worker; it never lets a token through that the worker would refuse.
 */

export type StoredTokenKind = 'webhook' | 'installation';

export function storedTokenKey(prefix: string, tokenHash: string): string {
  return `${prefix}:stored-token:${tokenHash}`;
}

/** The kind a token hash is stored as, or undefined. */
export async function storedTokenKind(
  redis: Redis,
  prefix: string,
  tokenHash: string,
): Promise<StoredTokenKind | undefined> {
  const value = await redis.get(storedTokenKey(prefix, tokenHash));
  return value === 'webhook' || value === 'installation' ? value : undefined;
}

/**
 * Records the hashes an installation now stores and forgets the ones it no longer does (a
 * reinstall replaces them, an uninstall erases them). One round trip; idempotent.
 */
export async function syncStoredTokens(
  redis: Redis,
  prefix: string,
  change: {
    readonly stored: ReadonlyArray<{ readonly tokenHash: string; readonly kind: StoredTokenKind }>;
    readonly removed: readonly string[];
  },
): Promise<void> {
  const keep = new Set(change.stored.map((t) => t.tokenHash));
  const multi = redis.multi();
  for (const hash of change.removed) if (!keep.has(hash)) multi.del(storedTokenKey(prefix, hash));
  for (const t of change.stored) multi.set(storedTokenKey(prefix, t.tokenHash), t.kind);
  if (multi.length === 0) return;
  await multi.exec();
}
