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
 * Lua functions for the admission script (admission.ts), which takes the turn and the dedupe gate
 * in one call. fair_turn's keys: BullMQ's prioritized set of the queue, the queue's fairness state
 * (hash: v = the turn at the head, epoch), the workspace's last turn (`epoch:turn`); its limit is
 * the most turns a workspace may be ahead of the head (-1: no limit; set while shedding, which
 * also keeps the epoch when the head is empty so a delayed backlog still counts), and the last
 * turn is BullMQ's limit. It returns turn, ahead, epoch; turn 0 means refused (ahead exceeds the
 * limit). record_turn then records the turn taken.
 */
export const FAIR_TURN_LUA = `
local function fair_turn(kprio, kstate, kws, limit, last_turn)
  local head = redis.call('ZRANGE', kprio, 0, 0, 'WITHSCORES')
  local epoch = tonumber(redis.call('HGET', kstate, 'epoch')) or 0
  local v
  if head[2] then
    v = math.max(1, math.floor(tonumber(head[2]) / 4294967296))
    redis.call('HSET', kstate, 'v', v)
  elseif limit < 0 then
    epoch = redis.call('HINCRBY', kstate, 'epoch', 1)
    v = 1
    redis.call('HSET', kstate, 'v', v)
  else
    v = tonumber(redis.call('HGET', kstate, 'v')) or 1
  end
  local last = 0
  local current = redis.call('GET', kws)
  if current then
    local e, t = string.match(current, '^(%d+):(%d+)$')
    if tonumber(e) == epoch then last = tonumber(t) end
  end
  local turn = math.min(math.max(last + 1, v), last_turn)
  local ahead = turn - v
  if limit >= 0 and ahead > limit then return 0, ahead, epoch end
  return turn, ahead, epoch
end
local function record_turn(kws, epoch, turn, ttl)
  redis.call('SET', kws, string.format('%d:%d', epoch, turn), 'PX', ttl)
end
`;

/** BullMQ's largest priority. */
export const LAST_TURN = 2 ** 21 - 1;

/** How long a workspace's last turn is kept without deliveries (it matters only within a backlog). */
export const WORKSPACE_TURN_TTL_MS = 3_600_000;
