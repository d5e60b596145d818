import { claimFirstDeliveries, deliveryRowKey, type Database, type FirstClaimInput, type Kysely } from '@cap/db';
import { inSpan, type Logger, type Metrics } from '@cap/observability';
import { invokeHandler, PendingMirrorWrites, refusedMirrorWrites, type HandlerInvocation } from '@cap/addon';

/**
 * One delivery that wants to commit with others: its claim, and the handler call, which the group
 * makes in its transaction (`invokeHandler`); it may run again if the group rolls back.
 */
export interface GroupedDelivery {
  readonly claim: FirstClaimInput;
  readonly invocation: HandlerInvocation;
}

/**
 * - `done`: claimed, handled and committed with the group.
 * - `alone`: not committed here (a retry or replay whose row exists, a duplicate, a stale
 *   installation, the same delivery twice in one group, or a group that failed as a whole):
 *   process it in a transaction of its own, which decides what it is.
 */
export type GroupOutcome = 'done' | 'alone';

export interface DeliveryGroupsOptions {
  /** Deliveries committed in one transaction at most. */
  readonly maxSize: number;
  /** Groups (transactions, pool connections) in flight at once. */
  readonly maxParallel: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

interface Entry {
  readonly delivery: GroupedDelivery;
  readonly key: string;
  /** The entity the delivery is about (workspace and id), when its body names one. */
  readonly entity: string | undefined;
  readonly resolve: (outcome: GroupOutcome) => void;
  readonly reject: (err: unknown) => void;
}

/** Thrown inside a group's transaction to roll it back after a handler failed. */
class HandlerFailed extends Error {
  constructor(
    readonly entry: Entry,
    readonly failure: unknown,
  ) {
    super('a handler in the group failed');
  }
}

/**
 * Group commit for webhook deliveries. Every delivery still commits its `webhook_events` row
 * and its handler's effects in one transaction, but the deliveries that wait at the same moment
 * share that transaction: one `BEGIN`, one claim statement for all of them, their handlers one
 * after another, one statement for all their `ctx.mirror` writes, one `COMMIT`. Round trips to
 * Postgres (and their system calls) are most of a delivery's cost, so this is what lets one worker
 * keep up with a burst (bench/worker). Two groups in flight never hold deliveries about the same
 * entity (see `take`).
 *
 * Groups form on their own: a delivery that arrives while `maxParallel` groups are in flight
 * waits for the next group, which takes up to `maxSize` waiting deliveries. Under light load
 * every group holds one delivery and nothing waits.
 *
 * Failures stay per delivery:
 * - A handler that throws rolls the group back. Its delivery fails (and retries as usual); the
 *   others go into the next group and their handlers run again, so none of their effects is
 *   lost and none is committed twice.
 * - A group that fails as a whole (the claim or the commit fails, a deadlock between groups)
 *   hands every delivery back as `alone`: each runs again in a transaction of its own, whose
 *   claim sees whether the group had committed it after all.
 */
export class DeliveryGroups {
  private readonly waiting: Entry[] = [];
  private inFlight = 0;
  /** Entities of the deliveries in groups in flight, with how many deliveries each. */
  private readonly busy = new Map<string, number>();
  private readonly sizes;
  private readonly rollbacks;
  private readonly refused;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: DeliveryGroupsOptions,
  ) {
    this.sizes = opts.metrics.histogram(
      'webhook_commit_group_size',
      'Webhook deliveries committed in one transaction',
      [],
      [1, 2, 4, 8, 16, 32, 64],
    );
    this.refused = refusedMirrorWrites(opts.metrics);
    this.rollbacks = opts.metrics.counter(
      'webhook_commit_group_rollbacks_total',
      'Groups of webhook deliveries rolled back: a handler failed, or the group as a whole',
      ['reason'],
    );
  }

  /** Waits for the delivery's group to commit (`done`) or to hand it back (`alone`). */
  commit(delivery: GroupedDelivery): Promise<GroupOutcome> {
    return new Promise<GroupOutcome>((resolve, reject) => {
      const { workspaceId, entityId } = delivery.claim.ref;
      const entity = entityId === null ? undefined : `${workspaceId}/${entityId}`;
      this.waiting.push({ delivery, key: deliveryRowKey(delivery.claim.ref), entity, resolve, reject });
      this.pump();
    });
  }

  /** Deliveries waiting for a group. */
  get pending(): number {
    return this.waiting.length;
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxParallel && this.waiting.length > 0) {
      const group = this.take();
      if (group.length === 0) return; // every waiting delivery is about an entity in flight
      this.inFlight++;
      for (const entry of group)
        if (entry.entity !== undefined) this.busy.set(entry.entity, (this.busy.get(entry.entity) ?? 0) + 1);
      void this.run(group).finally(() => {
        this.inFlight--;
        for (const entry of group) {
          if (entry.entity === undefined) continue;
          const left = (this.busy.get(entry.entity) ?? 1) - 1;
          if (left > 0) this.busy.set(entry.entity, left);
          else this.busy.delete(entry.entity);
        }
        this.pump();
      });
    }
  }

  /**
   * The next group: up to `maxSize` waiting deliveries in order, leaving for later the ones about
   * an entity that a group in flight is writing. Two groups writing the same rows in different
   * orders would deadlock (and wait for Postgres' deadlock_timeout before one fails); and two
   * changes of one entity commit in the order they were taken.
   */
  private take(): Entry[] {
    if (this.busy.size === 0) return this.waiting.splice(0, this.opts.maxSize);
    const group: Entry[] = [];
    const later: Entry[] = [];
    for (const entry of this.waiting) {
      if (group.length < this.opts.maxSize && (entry.entity === undefined || !this.busy.has(entry.entity)))
        group.push(entry);
      else later.push(entry);
    }
    this.waiting.splice(0, this.waiting.length, ...later);
    return group;
  }

  private async run(group: Entry[]): Promise<void> {
    // The same delivery twice (a replay next to its retry): the second one decides alone.
    const keys = new Set<string>();
    const members: Entry[] = [];
    for (const entry of group) {
      if (keys.has(entry.key)) entry.resolve('alone');
      else {
        keys.add(entry.key);
        members.push(entry);
      }
    }
    if (members.length === 0) return;

    let handled = new Set<Entry>();
    try {
      await inSpan('commit webhook deliveries', { attributes: { 'cap.deliveries': members.length } }, () =>
        this.db.transaction().execute(async (tx) => {
          const claimed = await claimFirstDeliveries(
            tx,
            members.map((m) => m.delivery.claim),
          );
          handled = new Set(members.filter((m) => claimed.has(m.key)));
          const pending = new PendingMirrorWrites(this.refused);
          for (const entry of handled) {
            try {
              await invokeHandler(tx, pending, entry.delivery.invocation);
            } catch (err) {
              throw isGroupConflict(err) ? err : new HandlerFailed(entry, err);
            }
          }
          // One statement for every handler's mirror writes; if it fails, the group fails as a
          // whole and each delivery applies its own writes alone, where a bad one fails only itself.
          await pending.apply(tx);
        }),
      );
    } catch (err) {
      if (err instanceof HandlerFailed) {
        this.rollbacks.inc({ reason: 'handler' });
        err.entry.reject(err.failure);
        for (const m of members) if (!handled.has(m)) m.resolve('alone');
        // The others' effects were rolled back with the group: they run again in the next one.
        this.waiting.unshift(...[...handled].filter((m) => m !== err.entry));
        return;
      }
      this.rollbacks.inc({ reason: 'group' });
      this.opts.logger.warn(
        {
          err: { message: (err as Error).message, code: (err as { code?: unknown }).code },
          deliveries: members.length,
        },
        'a group of webhook deliveries failed as a whole; each runs again alone',
      );
      for (const m of members) m.resolve('alone');
      return;
    }
    this.sizes.observe(handled.size);
    for (const m of members) m.resolve(handled.has(m) ? 'done' : 'alone');
  }
}

/** Deadlocks and serialization failures come from the group as a whole, not from one handler. */
function isGroupConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('40');
}
