import { createHash } from 'node:crypto';

/**
 * A stable point in [0, periodMs) for an installation, from a hash of its ids: periodic work on
 * every installation (reconciliation, webhook health checks) is spread over its period instead of
 * starting for all of them at the same minute, and each installation keeps its slot.
 */
export function installationOffsetMs(key: { workspaceId: string; addonId: string }, periodMs: number): number {
  if (periodMs <= 0) return 0;
  const hash = createHash('sha256').update(key.workspaceId).update('\0').update(key.addonId).digest();
  return Number(hash.readBigUInt64BE(0) % BigInt(Math.floor(periodMs)));
}
