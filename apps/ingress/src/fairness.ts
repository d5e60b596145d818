import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Fair turns between workspaces on the webhook queue (start-time fair queueing on BullMQ's
 * priorities, open-source BullMQ only).
 *
 * Each webhook job gets a *turn*, used as its BullMQ priority (a lower number is served first;
 * equal numbers first in, first out). A workspace's turns count up by one per delivery, starting
 * from the turn being served now (the priority at the head of the queue) when it has nothing
 * queued ahead. So a workspace that queued 10,000 deliveries holds turns n … n+9,999, and a quiet
 * workspace's delivery arriving after them gets turn n: it is served after at most one delivery
 * of every workspace with a backlog, not after the whole backlog. The workers need nothing: BullMQ
 * serves the lowest priority first, and retries and waits keep their job's priority.
 *
 * Within a workspace turns only grow, so its deliveries are served in the order they arrived; the
 * mirror applies one entity's changes by the ingress's entity sequence in any case.
 *
 * Turns restart from 1 (a new *epoch*, which voids every workspace's last turn) whenever nothing
 * waits for its turn, so the numbers stay far below BullMQ's limit of 2^21; a backlog that never
 * drains for 2 million turns gets the last turn for everything after, first in, first out.
 *
 * KEYS: BullMQ's prioritized set of the queue, the queue's fairness state (hash: v = the turn at
 * the head, epoch), the workspace's last turn (`epoch:turn`).
 * ARGV: the most turns a workspace may be ahead of the head (-1: no limit; set while shedding,
 * which also keeps the epoch when the head is empty so a delayed backlog still counts), the last
 * turn (BullMQ's limit), the workspace key's TTL in ms.
 * Returns {turn, ahead}; turn 0 means refused (ahead exceeds the limit), and nothing is recorded.
 */
const FAIR_TURN = `
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local epoch = tonumber(redis.call('HGET', KEYS[2], 'epoch')) or 0
local limit = tonumber(ARGV[1])
local v
if head[2] then
  v = math.max(1, math.floor(tonumber(head[2]) / 4294967296))
  redis.call('HSET', KEYS[2], 'v', v)
elseif limit < 0 then
  epoch = redis.call('HINCRBY', KEYS[2], 'epoch', 1)
  v = 1
  redis.call('HSET', KEYS[2], 'v', v)
else
  v = tonumber(redis.call('HGET', KEYS[2], 'v')) or 1
end
local last = 0
local current = redis.call('GET', KEYS[3])
if current then
  local e, t = string.match(current, '^(%d+):(%d+)$')
  if tonumber(e) == epoch then last = tonumber(t) end
end
local turn = math.min(math.max(last + 1, v), tonumber(ARGV[2]))
local ahead = turn - v
if limit >= 0 and ahead > limit then return {0, ahead} end
redis.call('SET', KEYS[3], string.format('%d:%d', epoch, turn), 'PX', ARGV[3])
return {turn, ahead}
`;

/** BullMQ's largest priority. */
export const LAST_TURN = 2 ** 21 - 1;

/** How long a workspace's last turn is kept without deliveries (it matters only within a backlog). */
const WORKSPACE_TURN_TTL_MS = 3_600_000;

export type FairTurn =
  | { readonly accepted: true; readonly turn: number; readonly ahead: number }
  | { readonly accepted: false; readonly ahead: number };

/**
 * Takes the workspace's next turn on `queue` (keys `<prefix>:fair:<queue>:*`). `maxAhead` (shedding) refuses a workspace already that many
 * turns ahead of the head of the queue; undefined accepts every delivery.
 */
export async function takeFairTurn(
  redis: Redis,
  queue: Queue,
  workspaceId: string,
  maxAhead?: number,
): Promise<FairTurn> {
  // Beside BullMQ's keys, not among them: obliterating the queue leaves the turns (they void themselves).
  const base = `${queue.opts.prefix ?? 'bull'}:fair:${queue.name}`;
  const [turn, ahead] = (await redis.eval(
    FAIR_TURN,
    3,
    queue.keys.prioritized!,
    `${base}:state`,
    `${base}:ws:${workspaceId}`,
    maxAhead ?? -1,
    LAST_TURN,
    WORKSPACE_TURN_TTL_MS,
  )) as [number, number];
  return turn > 0 ? { accepted: true, turn, ahead } : { accepted: false, ahead };
}
