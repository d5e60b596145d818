import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '@cap/observability';
import { RedisScript, withDeadline } from '@cap/queue';

/** Redis keys the ingress writes besides BullMQ's, all under BULLMQ_PREFIX. */
export function gateKey(prefix: string, deliveryKey: string): string {
  return `${prefix}:gate:${deliveryKey}`;
}

/** The gate of one entity (workspace, entity type, entity id): holds its last accepted content. */
export function entityGateKey(prefix: string, workspaceId: string, entityType: string, entityId: string): string {
  const id = createHash('sha256').update(workspaceId).update('\0').update(entityType).update('\0').update(entityId);
  return `${prefix}:gate:entity:${id.digest('hex')}`;
}

/**
 * The entity gate: a delivery is a duplicate only when its content repeats the content last
 * accepted for the same entity, so A → B → A are three changes and A sent twice in a row is one.
 * The value is `holder|content|previous content|sequence`: the holder (the job id) lets a failed
 * delivery release only its own acceptance; the previous content is what a release restores and
 * what makes the delivery key of A after B differ from the key of the first A; the sequence
 * orders the entity's accepted deliveries (greater than the last one, and than Redis's clock in
 * µs, so it keeps growing if the gate expired or Redis lost it): the worker applies an entity's
 * changes by it, whatever order its jobs finish in.
 *
 * take_entity_gate(key, holder, content key, TTL in ms) returns outcome, value: `new` (this
 * delivery now holds the gate), `own` (the same holder already did: a command re-sent after a
 * dropped connection) or `dup` (the last accepted content is this one; `value` is its holder's).
 * take_content_gate(key, holder, TTL) is the gate of events whose body names no entity: identical
 * content inside the window is a duplicate (`SET NX GET`), with the same outcomes.
 * Lua functions for the admission script (admission.ts).
 */
export const GATES_LUA = `
local function take_entity_gate(key, holder, content, ttl)
  local current = redis.call('GET', key)
  local previous = ''
  local last = 0
  if current then
    local h, c, _, seq = string.match(current, '^([^|]*)|([^|]*)|([^|]*)|?(%d*)')
    if h == holder then return 'own', current end
    if c == content then return 'dup', current end
    previous = c or ''
    last = tonumber(seq) or 0
  end
  local t = redis.call('TIME')
  local seq = math.max(last + 1, tonumber(t[1]) * 1000000 + tonumber(t[2]))
  local value = holder .. '|' .. content .. '|' .. previous .. '|' .. string.format('%d', seq)
  redis.call('SET', key, value, 'PX', ttl)
  return 'new', value
end
local function take_content_gate(key, holder, ttl)
  local previous = redis.call('SET', key, holder, 'PX', ttl, 'NX', 'GET')
  if not previous then return 'new', holder end
  if previous == holder then return 'own', previous end
  return 'dup', previous
end
`;

/** The parts of an entity gate's value (a value written before sequences existed has seq 0). */
export function entityGateParts(value: string): { holder: string; content: string; previous: string; seq: number } {
  const [holder = '', content = '', previous = '', seq = ''] = value.split('|');
  return { holder, content, previous, seq: /^\d+$/.test(seq) ? Number(seq) : 0 };
}

/** Deletes a gate only while it still holds this request's value, so another holder's survives. */
const RELEASE_GATE = new RedisScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
  1,
);

/**
 * Releases an entity gate while ARGV[1] holds it: back to the content accepted before (a resend
 * of that one stays a duplicate), or deleted when there was none.
 */
const RELEASE_ENTITY_GATE = new RedisScript(
  `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local holder, content, previous, seq = string.match(current, '^([^|]*)|([^|]*)|([^|]*)|?(%d*)')
if holder ~= ARGV[1] then return 0 end
if previous ~= '' then
  -- The sequence stays: the next acceptance must still come after this one.
  redis.call('SET', KEYS[1], '-|' .. previous .. '||' .. seq, 'KEEPTTL')
else
  redis.call('DEL', KEYS[1])
end
return 1
`,
  1,
);

export type GateKind = 'content' | 'entity';

/** Hands a gate from a failed holder to a new one, only while it still holds the same value. */
const TAKE_OVER_GATE = new RedisScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`,
  1,
);

/**
 * Releases dedupe gates taken by deliveries that were answered 503. A gate left behind would make
 * the sender's retry look like a duplicate of an event that was never queued, so a release that
 * cannot reach Redis is kept and retried until it succeeds or the gate expires by itself.
 *
 * A release is also sent when the SET's own outcome is unknown (it timed out): a stalled Redis
 * runs the SET later, and the release, sent after it on the same connection, runs after it.
 */
export class GateReleaser {
  private readonly pending = new Map<string, { holder: string; expiresAt: number; kind: GateKind }>();
  private timer: NodeJS.Timeout | undefined;
  private retrying = false;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    private readonly retryIntervalMs = 1000,
    /** Bounds memory during a long outage; beyond it the oldest gates are left to expire. */
    private readonly maxPending = 10_000,
  ) {
    // Release what is owed as soon as Redis is back, not at the next tick.
    redis.on('ready', () => void this.retry());
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * A delivery found the gate holding `current` (held by `holder`). If that holder is one of ours
   * that failed and whose release has not reached Redis yet, the gate is no proof of a queued
   * event: set it to `next` (true) so the delivery is queued. False means a genuine duplicate.
   */
  async takeOver(key: string, current: string, holder: string, next: string, ttlMs: number): Promise<boolean> {
    if (this.pending.get(key)?.holder !== holder) return false;
    const moved = await withDeadline(
      TAKE_OVER_GATE.run(this.redis, key, current, next, ttlMs),
      this.timeoutMs,
      'Redis',
    );
    if (this.pending.get(key)?.holder === holder) this.pending.delete(key);
    return moved === 1;
  }

  /** Gives the gate up while `holder` (a job id) still holds it; retried until Redis answers. */
  release(key: string, holder: string, expiresAt: number, kind: GateKind = 'content'): void {
    void this.attempt(key, holder, kind).then((released) => {
      if (!released) this.keep(key, holder, expiresAt, kind);
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) {
      this.logger.warn(
        { gates: this.pending.size },
        'stopping with dedupe gates not yet released; they expire after the dedupe window',
      );
    }
  }

  private async attempt(key: string, holder: string, kind: GateKind): Promise<boolean> {
    try {
      const script = kind === 'entity' ? RELEASE_ENTITY_GATE : RELEASE_GATE;
      await withDeadline(script.run(this.redis, key, holder), this.timeoutMs, 'Redis');
      return true;
    } catch {
      return false;
    }
  }

  private keep(key: string, holder: string, expiresAt: number, kind: GateKind): void {
    if (!this.pending.has(key) && this.pending.size >= this.maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
      this.logger.warn(
        { max: this.maxPending },
        'too many dedupe gates waiting for release; the oldest is left to expire',
      );
    }
    this.pending.set(key, { holder, expiresAt, kind });
    this.timer ??= setInterval(() => void this.retry(), this.retryIntervalMs).unref();
  }

  private async retry(): Promise<void> {
    if (this.retrying || this.redis.status !== 'ready') return;
    this.retrying = true;
    try {
      for (const [key, { holder, expiresAt, kind }] of this.pending) {
        if (Date.now() >= expiresAt || (await this.attempt(key, holder, kind))) this.pending.delete(key);
        else break;
      }
    } finally {
      this.retrying = false;
      if (this.pending.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }
  }
}
