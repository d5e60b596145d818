import type { Redis } from 'ioredis';
import { RedisScript } from '@cap/queue';

export function lifecycleSeqKey(prefix: string, workspaceId: string): string {
  return `${prefix}:lifecycle-seq:${workspaceId}`;
}

/**
 * The per-workspace lifecycle sequence: INCR, floored at Redis time (µs/1000 ⇒ ms·1000), so it
 * keeps growing even if Redis lost the counter (restart without AOF) — a reset would otherwise
 * make every later event look stale to the workers.
 */
const NEXT_SEQ = new RedisScript(
  `
local v = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local floor = tonumber(t[1]) * 1000000 + math.floor(tonumber(t[2]) / 1000) * 1000
if v < floor then
  -- %d: a plain integer string (tostring would print 1.8e+15, which INCR cannot read)
  redis.call('SET', KEYS[1], string.format('%d', floor))
  v = floor
end
return v
`,
  1,
);

export async function nextLifecycleSeq(redis: Redis, prefix: string, workspaceId: string): Promise<number> {
  const v = await NEXT_SEQ.run(redis, lifecycleSeqKey(prefix, workspaceId));
  return Number(v);
}
