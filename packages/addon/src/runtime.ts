import { declaredSettings, parseSettingValue } from '@cap/clockify';
import type { BodyKind, ClockifyClient, StructuredSettings, WebhookEventName } from '@cap/clockify';
import { applyEntityWrites, type Database, type EntityChange, type EntityWrite, type Transaction } from '@cap/db';
import type { Counter, Logger, Metrics } from '@cap/observability';
import type {
  HandlerContext,
  InstallationSetting,
  MirrorWrites,
  RegisteredAddon,
  SettingsView,
  WebhookHandler,
} from './define.js';

/*
 * How the platform runs an add-on's handler: the settings it sees, the handler of an event, its
 * `ctx.mirror` writes and the context it is called with. The worker runs deliveries with it, and
 * `@cap/testing/addon`'s HandlerHarness runs a handler in a test with exactly the same code.
 */

/**
 * A SettingsView over an installation's stored settings (anything but a list counts as none),
 * typed by the add-on's declared settings: each declared setting's value is read by its type
 * (a CHECKBOX stored as "false" is `false`), and one not stored yet has the manifest's default —
 * the value Clockify itself stores at install. Settings the add-on does not declare pass as stored.
 */
export function settingsView(stored: unknown, declared?: StructuredSettings | string): SettingsView {
  const list = (Array.isArray(stored) ? stored : []).filter(
    (s): s is InstallationSetting =>
      s !== null && typeof s === 'object' && typeof (s as { id?: unknown }).id === 'string',
  );
  const byId = new Map(list.map((s) => [s.id, s]));
  const settings: InstallationSetting[] = [];
  for (const [id, d] of declaredSettings(declared)) {
    const storedValue = byId.get(id);
    const parsed = storedValue === undefined ? undefined : parseSettingValue(d.type, storedValue.value);
    settings.push({ id, name: storedValue?.name ?? d.name, value: parsed ?? d.value });
    byId.delete(id);
  }
  settings.push(...byId.values());
  const values = new Map(settings.map((s) => [s.id, s.value]));
  return { settings, setting: <T>(id: string) => values.get(id) as T | undefined };
}

/** Looks up the handler of an event, typed loosely for the worker's dispatcher. */
export function handlerFor(definition: RegisteredAddon, event: string): WebhookHandler<WebhookEventName> | undefined {
  const handlers = definition.handlers as Partial<Record<string, WebhookHandler<WebhookEventName>>>;
  return Object.prototype.hasOwnProperty.call(handlers, event) ? handlers[event] : undefined;
}

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

  /** The writes kept so far, in the order they were made (what `apply` will write). */
  kept(): readonly EntityWrite[] {
    return [...this.writes];
  }

  /** Applies the writes kept so far in `tx`, logs the ones their rule refused and returns those. */
  async apply(tx: Transaction<Database>): Promise<readonly EntityWrite[]> {
    if (this.writes.length === 0) return [];
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
    return refused;
  }
}

/** One handler call: the delivery it runs for and where its context's parts come from. */
export interface HandlerInvocation {
  readonly handler: WebhookHandler<WebhookEventName>;
  readonly event: WebhookEventName;
  /** The parsed webhook body. */
  readonly body: unknown;
  readonly workspaceId: string;
  readonly addonId: string;
  readonly bodyKind: BodyKind;
  readonly deliveryKey: string;
  readonly attempt: number;
  readonly receivedAt: Date;
  readonly settings: SettingsView;
  /**
   * The installation's API client, asked for on each use of `ctx.api`: create it on first use and
   * return that one (the worker keeps it across the delivery's transaction attempts).
   */
  readonly api: () => ClockifyClient;
  /** The delivery's logger, created on first use. */
  readonly logger: () => Logger;
  /** The entity the body names and the delivery's place among its deliveries (see MirrorWriter). */
  readonly entity?: MirrorWriter['entity'];
}

/**
 * Calls the handler with its context in `tx`; its `ctx.mirror` writes are kept in `pending`
 * (applied by the caller before the commit). A write after the handler returned throws.
 */
export async function invokeHandler(
  tx: Transaction<Database>,
  pending: PendingMirrorWrites,
  call: HandlerInvocation,
): Promise<void> {
  const { mirror, close } = pending.writer({
    workspaceId: call.workspaceId,
    event: call.event,
    log: call.logger,
    ...(call.entity ? { entity: call.entity } : {}),
  });
  const ctx: HandlerContext = {
    workspaceId: call.workspaceId,
    addonId: call.addonId,
    event: call.event,
    bodyKind: call.bodyKind,
    deliveryKey: call.deliveryKey,
    attempt: call.attempt,
    receivedAt: call.receivedAt,
    get api() {
      return call.api();
    },
    settings: call.settings.settings,
    setting: call.settings.setting,
    get logger() {
      return call.logger();
    },
    mirror,
    tx,
  };
  try {
    await call.handler(call.body as never, ctx as never);
  } finally {
    close();
  }
}
