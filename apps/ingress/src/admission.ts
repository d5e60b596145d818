import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisScript } from '@cap/queue';
import { FAIR_TURN_LUA, LAST_TURN, WORKSPACE_TURN_TTL_MS } from './fairness.js';
import { GATES_LUA, type GateKind } from './gates.js';

/**
 * A webhook's admission in one Redis round trip: its workspace's fair turn (fairness.ts) and its
 * dedupe gate (gates.ts). A refused turn (shedding) takes no gate; an accepted one is recorded
 * whatever the gate says, as when the two were separate calls.
 *
 * KEYS: BullMQ's prioritized set of the webhook queue, the queue's fairness state, the
 * workspace's last turn, the gate. ARGV: the most turns ahead (-1: no limit), the last turn, the
 * workspace key's TTL, the gate kind, the holder (job id), the content key, the window in ms.
 * All keys share BULLMQ_PREFIX, so on Redis Cluster (hash-tag prefix) they are in one slot.
 */
const ADMIT = new RedisScript(
  `${FAIR_TURN_LUA}${GATES_LUA}
local turn, ahead, epoch = fair_turn(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), tonumber(ARGV[2]))
if turn == 0 then return {0, ahead, 'refused', ''} end
record_turn(KEYS[3], epoch, turn, ARGV[3])
local outcome, value
if ARGV[4] == 'entity' then
  outcome, value = take_entity_gate(KEYS[4], ARGV[5], ARGV[6], ARGV[7])
else
  outcome, value = take_content_gate(KEYS[4], ARGV[5], ARGV[7])
end
return {turn, ahead, outcome, value}
`,
  4,
);

export type Admission =
  | { readonly outcome: 'refused'; readonly ahead: number }
  | {
      /** `new`: the gate is this delivery's; `own`: it already was (a re-sent command); `dup`: another holds it. */
      readonly outcome: 'new' | 'own' | 'dup';
      /** The delivery's turn: its BullMQ priority. */
      readonly turn: number;
      readonly ahead: number;
      /** The gate's value now (the holder's job id, or the entity gate's `holder|content|previous|seq`). */
      readonly value: string;
    };

export interface AdmissionRequest {
  readonly workspaceId: string;
  /** Refuse a workspace this many turns ahead of the head (shedding); undefined accepts all. */
  readonly maxAhead?: number;
  readonly gate: string;
  readonly gateKind: GateKind;
  readonly holder: string;
  readonly contentKey: string;
  readonly windowMs: number;
}

/** Takes the delivery's turn on `queue` (keys `<prefix>:fair:<queue>:*`) and its gate. */
export async function admitWebhook(redis: Redis, queue: Queue, req: AdmissionRequest): Promise<Admission> {
  // Beside BullMQ's keys, not among them: obliterating the queue leaves the turns (they void themselves).
  const base = `${queue.opts.prefix ?? 'bull'}:fair:${queue.name}`;
  const [turn, ahead, outcome, value] = (await ADMIT.run(
    redis,
    queue.keys.prioritized!,
    `${base}:state`,
    `${base}:ws:${req.workspaceId}`,
    req.gate,
    req.maxAhead ?? -1,
    LAST_TURN,
    WORKSPACE_TURN_TTL_MS,
    req.gateKind,
    req.holder,
    req.contentKey,
    req.windowMs,
  )) as [number, number, 'refused' | 'new' | 'own' | 'dup', string];
  return outcome === 'refused' ? { outcome, ahead } : { outcome, turn, ahead, value };
}
