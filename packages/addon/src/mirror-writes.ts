import type { MirrorWrites } from '@cap/addon';
import { applyEntityWrites, type Database, type EntityChange, type EntityWrite, type Transaction } from '@cap/db';
import type { Counter, Logger, Metrics } from '@cap/observability';

/** The delivery a handler's mirror writes belong to. */
export interface MirrorWriter {
  readonly workspaceId: string;
  readonly event: string;
  /** The delivery's logger, for writes that are refused. */
  readonly log: () => Logger;
  /**
   * The entity the delivery's body names and the delivery's place among that entity's accepted
   * deliveries (the ingress's sequence): writes to that entity carry it, so an older change that
   * finishes last does not overwrite a newer one.
   */
  readonly entity?: { readonly entityType: string; readonly entityId: string; readonly seq: number };
}

/** The counter of refused mirror writes, created on first use. */
export function refusedMirrorWrites(metrics: Metrics): Counter<'change'> {
  return metrics.counter(
    'mirror_writes_refused_total',
    'ctx.mirror writes refused by their rule: a creation that found a copy, an update that found a tombstone',
    ['change'],
  );
}

/**
 * The `ctx.mirror` writes of the handlers that share one transaction (one delivery, or a group),
 * kept in order and applied together just before it commits: one statement instead of one per
 * delivery (applyEntityWrites). Built per transaction attempt, so a rollback discards them.
 */
export class PendingMirrorWrites {
  private writes: EntityWrite[] = [];
  private readonly owners = new Map<EntityWrite, MirrorWriter>();

  /** `refused` counts the writes their rule refused, by change (`mirror_writes_refused_total`). */
  constructor(private readonly refused?: Counter<'change'>) {}

  /**
   * The `ctx.mirror` of one handler run. Call the returned `close` when the handler returned: a
   * write after that (a promise the handler did not await) throws instead of being lost.
   */
  writer(owner: MirrorWriter): { mirror: MirrorWrites; close: () => void } {
    let open = true;
    const add =
      (change: EntityChange) =>
      (entityType: string, entityId: string, data: object): void => {
        if (!open) throw new Error(`ctx.mirror.${change}() was called after the handler returned`);
        if (typeof entityType !== 'string' || entityType === '')
          throw new TypeError(`ctx.mirror.${change}(): entityType must be a non-empty string`);
        if (typeof entityId !== 'string' || entityId === '')
          throw new TypeError(`ctx.mirror.${change}(): entityId must be a non-empty string`);
        if (data === null || typeof data !== 'object' || Array.isArray(data))
          throw new TypeError(`ctx.mirror.${change}(): data must be an object`);
        const own = owner.entity?.entityType === entityType && owner.entity.entityId === entityId;
        const write: EntityWrite = {
          workspaceId: owner.workspaceId,
          entityType,
          entityId,
          change,
          data: data as Record<string, unknown>,
          event: owner.event,
          ...(own ? { seq: owner.entity!.seq } : {}),
        };
        this.writes.push(write);
        this.owners.set(write, owner);
      };
    return {
      mirror: { created: add('created'), updated: add('updated'), merged: add('merged'), deleted: add('deleted') },
      close: () => {
        open = false;
      },
    };
  }

  /** Writes kept so far. */
  get size(): number {
    return this.writes.length;
  }

  /** Applies the writes kept so far in `tx`, and logs the ones their rule refused. */
  async apply(tx: Transaction<Database>): Promise<void> {
    if (this.writes.length === 0) return;
    const writes = this.writes;
    this.writes = [];
    const refused = await applyEntityWrites(tx, writes);
    // Routine when Clockify delivers out of order, and frequent under load: counted, logged at debug.
    for (const write of refused) {
      this.refused?.inc({ change: write.change });
      const log = this.owners.get(write)?.log();
      const fields = { event: write.event, entityType: write.entityType, entityId: write.entityId };
      if (write.change === 'created') log?.debug(fields, 'a later change arrived first; creation ignored');
      else log?.debug(fields, 'entity was deleted earlier or changed by a later delivery; late update ignored');
    }
    this.owners.clear();
  }
}
