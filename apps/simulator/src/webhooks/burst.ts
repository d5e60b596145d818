import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookEventName } from '@cap/clockify';
import type { DeliveryResult } from '../http.js';
import type { Rng } from '../random.js';

export interface BurstOptions {
  /** Distinct deliveries to send (duplicates come on top). At most 1 000 000. */
  readonly count: number;
  /** Deliveries started per second; default 100. `Infinity` sends as fast as `concurrency` allows. */
  readonly rate?: number;
  /** Fraction of deliveries (0–1) sent a second time with a byte-identical body. */
  readonly duplicates?: number;
  /** Shuffle deliveries within consecutive windows: `true` = windows of 10, a number = that size. */
  readonly reorder?: boolean | number;
  /** Only these events (each must be subscribed); default every subscribed event. */
  readonly events?: readonly WebhookEventName[];
  /** Workspace of the installation to deliver to; default the only live one. */
  readonly workspaceId?: string;
  /** The add-on to deliver to, when several are installed on the workspace. */
  readonly addonKey?: string;
  /** Change the store for events it models (default true); otherwise only build bodies. */
  readonly mutate?: boolean;
  /** Deliveries in flight at most; default 64. */
  readonly concurrency?: number;
  /** Random seed of the plan (events, bodies, order); default random. */
  readonly seed?: string | number;
  /** Keep one row per delivery in the report; default when count ≤ 100 000. */
  readonly keepDeliveries?: boolean;
}

export interface PlannedDelivery {
  readonly seq: number;
  readonly event: WebhookEventName;
  /** The exact bytes sent. */
  readonly body: string;
  readonly bodySha256: string;
  /** For a duplicate: the `seq` of the delivery it repeats. */
  readonly duplicateOf?: number;
}

export interface BurstDelivery {
  readonly seq: number;
  readonly event: WebhookEventName;
  readonly status: number;
  readonly duplicate: boolean;
  readonly bodySha256: string;
  readonly error?: string;
}

export interface BurstReport {
  readonly workspaceId: string;
  /** Deliveries sent, duplicates included. */
  readonly sent: number;
  readonly unique: number;
  readonly duplicates: number;
  /** Deliveries whose body came from a real store change (the rest were synthesized). */
  readonly mutations: number;
  readonly reordered: boolean;
  readonly byEvent: Record<string, number>;
  readonly byStatus: Record<string, number>;
  /** Deliveries without an HTTP answer. */
  readonly errors: number;
  readonly durationMs: number;
  readonly achievedRate: number;
  readonly deliveries?: readonly BurstDelivery[];
}

export const MAX_BURST = 1_000_000;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Adds duplicates and applies the reordering to a plan of distinct deliveries. A duplicate lands
 * a few places after its original, so it can arrive before or after it once reordered.
 */
export function arrangeBurst(
  unique: readonly PlannedDelivery[],
  rng: Rng,
  options: Pick<BurstOptions, 'duplicates' | 'reorder'>,
): PlannedDelivery[] {
  const ratio = options.duplicates ?? 0;
  if (!(ratio >= 0 && ratio <= 1)) throw new Error('duplicates must be a ratio between 0 and 1');
  const dupCount = Math.round(unique.length * ratio);
  const chosen = new Set(
    rng.sample(
      unique.map((d) => d.seq),
      dupCount,
    ),
  );
  // Each duplicate is due a few places after its original.
  const dueAfter = new Map<number, PlannedDelivery[]>();
  let nextSeq = unique.length;
  unique.forEach((original, i) => {
    if (!chosen.has(original.seq)) return;
    const at = Math.min(unique.length - 1, i + rng.int(0, 5));
    const list = dueAfter.get(at) ?? [];
    list.push({ ...original, seq: nextSeq++, duplicateOf: original.seq });
    dueAfter.set(at, list);
  });
  const out: PlannedDelivery[] = [];
  unique.forEach((d, i) => {
    out.push(d);
    for (const dup of dueAfter.get(i) ?? []) out.push(dup);
  });
  const window = options.reorder === true ? 10 : typeof options.reorder === 'number' ? Math.floor(options.reorder) : 0;
  if (window > 1) {
    for (let i = 0; i < out.length; i += window) {
      const part = rng.shuffle(out.slice(i, i + window));
      out.splice(i, part.length, ...part);
    }
  }
  return out;
}

/** Sends a plan at a steady rate with bounded concurrency and reports what happened. */
export async function runBurst(
  workspaceId: string,
  plan: readonly PlannedDelivery[],
  send: (d: PlannedDelivery) => Promise<DeliveryResult>,
  options: {
    rate?: number;
    concurrency?: number;
    keepDeliveries?: boolean;
    mutations: number;
    reordered: boolean;
    signal?: AbortSignal;
  },
): Promise<BurstReport> {
  const rate = options.rate ?? 100;
  if (!(rate > 0)) throw new Error('rate must be positive');
  const concurrency = options.concurrency ?? 64;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000)
    throw new Error('concurrency must be an integer between 1 and 10000');
  const keep = options.keepDeliveries ?? plan.length <= 100_000;
  const deliveries: BurstDelivery[] = [];
  const byEvent: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  let errors = 0;
  let inFlight = 0;
  const waiters: Array<() => void> = [];
  const started = performance.now();
  const pending = new Set<Promise<void>>();

  for (let i = 0; i < plan.length; i++) {
    if (options.signal?.aborted) break;
    const due = started + (Number.isFinite(rate) ? (i * 1000) / rate : 0);
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight >= concurrency) await new Promise<void>((resolve) => waiters.push(resolve));
    const d = plan[i] as PlannedDelivery;
    inFlight++;
    const p = send(d)
      .then((result) => {
        byEvent[d.event] = (byEvent[d.event] ?? 0) + 1;
        byStatus[String(result.status)] = (byStatus[String(result.status)] ?? 0) + 1;
        if (result.status === 0) errors++;
        if (keep) {
          deliveries.push({
            seq: d.seq,
            event: d.event,
            status: result.status,
            duplicate: d.duplicateOf !== undefined,
            bodySha256: d.bodySha256,
            ...(result.error ? { error: result.error } : {}),
          });
        }
      })
      .finally(() => {
        inFlight--;
        pending.delete(p);
        waiters.shift()?.();
      });
    pending.add(p);
  }
  await Promise.all(pending);
  const durationMs = performance.now() - started;
  const sent = Object.values(byEvent).reduce((a, b) => a + b, 0);
  const duplicates = plan.filter((d) => d.duplicateOf !== undefined).length;
  return {
    workspaceId,
    sent,
    unique: plan.length - duplicates,
    duplicates,
    mutations: options.mutations,
    reordered: options.reordered,
    byEvent,
    byStatus,
    errors,
    durationMs: Math.round(durationMs),
    achievedRate: durationMs > 0 ? Math.round((sent * 1000 * 10) / durationMs) / 10 : sent,
    ...(keep ? { deliveries: deliveries.sort((a, b) => a.seq - b.seq) } : {}),
  };
}
