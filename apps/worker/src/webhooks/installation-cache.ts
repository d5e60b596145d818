import type { Database, Installation, InstallationVersion, Kysely } from '@cap/db';
import { installationForDelivery } from '@cap/db';

export interface InstallationSnapshot {
  readonly installation: Installation;
  /** SHA-256 of the stored per-event webhook token, by event (empty unless ACTIVE). */
  readonly tokenHashes: ReadonlyMap<string, string>;
  readonly version: InstallationVersion;
  /** True when it came from the cache, not from Postgres just now. */
  readonly cached: boolean;
}

export interface InstallationCacheOptions {
  readonly maxEntries?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * Remembers ACTIVE installations and their webhook token hashes per process, so a webhook does
 * not read them from Postgres every time. Nothing read from here is trusted on its own: the
 * delivery's claim statement commits only if the installation still has this version and is
 * ACTIVE, and a negative decision (a token that does not match) is checked again against
 * Postgres. The bound and the TTL only keep memory small; correctness does not depend on them.
 */
export class InstallationCache {
  private readonly entries = new Map<string, { snapshot: InstallationSnapshot; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: InstallationCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The installation, from the cache unless `fresh`; undefined when there is none. */
  async get(
    db: Kysely<Database>,
    key: { workspaceId: string; addonId: string },
    fresh = false,
  ): Promise<InstallationSnapshot | undefined> {
    const id = `${key.workspaceId}\u0000${key.addonId}`;
    if (!fresh) {
      const hit = this.entries.get(id);
      if (hit && hit.expiresAt > this.now()) return hit.snapshot;
    }
    this.entries.delete(id);
    // Tokens matter only to an ACTIVE installation; the others' webhooks are skipped or ignored.
    const found = await installationForDelivery(db, key);
    if (!found) return undefined;
    const { installation, tokenHashes } = found;
    const snapshot: InstallationSnapshot = {
      installation,
      tokenHashes,
      version: {
        lastSeq: installation.last_seq,
        statusSeq: installation.status_seq,
        settingsSeq: installation.settings_seq,
      },
      cached: false,
    };
    // Only ACTIVE ones: a skipped or ignored outcome is always decided on what Postgres says now.
    if (installation.status === 'ACTIVE') {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(id, { snapshot: { ...snapshot, cached: true }, expiresAt: this.now() + this.ttlMs });
    }
    return snapshot;
  }

  invalidate(key: { workspaceId: string; addonId: string }): void {
    this.entries.delete(`${key.workspaceId}\u0000${key.addonId}`);
  }

  get size(): number {
    return this.entries.size;
  }
}
