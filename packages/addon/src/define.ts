import { declaredSettings, parseSettingValue } from '@cap/clockify';
import type {
  BodyKind,
  ClockifyClient,
  ComponentSpec,
  ManifestInput,
  Scope,
  StructuredSettings,
  SubscriptionPlan,
  WebhookEventName,
  WebhookPayload,
} from '@cap/clockify';
import type { Database, Transaction } from '@cap/db';
import type { Logger } from '@cap/observability';

/** One stored setting, as Clockify sends them in SETTINGS_UPDATED. */
export interface InstallationSetting {
  readonly id: string;
  readonly name?: string;
  readonly value: unknown;
}

/** The parts of a workspace a bootstrap copies, each listed by its own API operation. */
export const BOOTSTRAP_RESOURCES = [
  'workspace',
  'users',
  'user-groups',
  'clients',
  'projects',
  'tasks',
  'tags',
  'custom-fields',
  'time-entries',
] as const;
export type BootstrapResource = (typeof BOOTSTRAP_RESOURCES)[number];

/** The settings of an installation as stored (a list of {id, name, value}), and a lookup by id. */
export interface SettingsView {
  readonly settings: readonly InstallationSetting[];
  /** The value of one setting by id, or undefined. */
  setting<T = unknown>(id: string): T | undefined;
}

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

/** An installation as the add-on's bootstrap choice sees it. */
export interface BootstrapContext extends SettingsView {
  readonly workspaceId: string;
}

/** What a webhook handler receives besides its payload. */
export interface HandlerContext<E extends WebhookEventName = WebhookEventName> {
  readonly workspaceId: string;
  readonly addonId: string;
  readonly event: E;
  /**
   * What the body says about its entity (`full`, `partial` or `reference`, see `bodyKindOf` in
   * @cap/clockify): a `partial` body must be merged into what is stored, never replace it.
   */
  readonly bodyKind: BodyKind;
  /** The durable dedupe key of this delivery (see the README: what a duplicate is). */
  readonly deliveryKey: string;
  /** 1 on the first run; higher when the job is retried or replayed. */
  readonly attempt: number;
  readonly receivedAt: Date;
  /**
   * A Clockify API client bound to this installation (its base URL and token), the shared
   * per-workspace rate limiter and the retry policy. Created on first use.
   */
  readonly api: ClockifyClient;
  readonly settings: readonly InstallationSetting[];
  /** The value of one setting by id, or undefined. */
  setting<T = unknown>(id: string): T | undefined;
  readonly logger: Logger;
  /**
   * Writes to this workspace's mirror (`workspace_entities`). They are kept until the handler
   * returns and then applied in its transaction, together with the writes of the deliveries that
   * share it, in one statement: that is what makes them cheap. So they commit with the delivery
   * like everything in `tx`, but reads through `tx` inside the handler do not see them yet; write
   * through `tx` (e.g. `upsertEntityFromWebhook(ctx.tx, …)` from `@cap/db`) where a handler must
   * read its own write.
   */
  readonly mirror: MirrorWrites;
  /**
   * The transaction the handler's database effects commit in, together with the delivery's
   * status change: either both happen or neither. Under load it is shared with other deliveries
   * (group commit, see WEBHOOK_COMMIT_GROUP_MAX): use it only until the handler returns, and
   * expect the handler to run again if the transaction rolls back for any reason.
   */
  readonly tx: Transaction<Database>;
}

/**
 * What a webhook says happened to an entity of the handler's workspace, for its copy in
 * `workspace_entities` (recorded with the delivery's event). Clockify does not order webhooks,
 * so each change is applied by a rule that holds whatever order deliveries arrive in. A change
 * its rule refuses is not an error: it is counted (`mirror_writes_refused_total`) and logged at
 * debug.
 */
export interface MirrorWrites {
  /** A creation (NEW_*): written only if no copy exists (a later change overtook it). */
  created(entityType: string, entityId: string, data: object): void;
  /** A change: written unless the entity was deleted, so a late update cannot resurrect it. */
  updated(entityType: string, entityId: string, data: object): void;
  /**
   * A change carried by a partial body (see `bodyKindOf`): like `updated`, but the stored copy
   * keeps the top-level fields the body lacks (a renamed user keeps the status and roles the
   * bootstrap stored).
   */
  merged(entityType: string, entityId: string, data: object): void;
  /** A deletion: leaves a tombstone (the last live data stays), created if the entity was never seen. */
  deleted(entityType: string, entityId: string, data: object): void;
}

export type WebhookHandler<E extends WebhookEventName> = (
  payload: WebhookPayload<E>,
  ctx: HandlerContext<E>,
) => Promise<void> | void;

export type HandlerMap<E extends WebhookEventName> = { readonly [K in E]: WebhookHandler<K> };

/** Everything an add-on author writes, in one place; manifest, routes and queues follow. */
export interface AddonDefinition<E extends WebhookEventName = WebhookEventName> {
  readonly key: string;
  readonly name: string;
  readonly description?: string;
  readonly minimalSubscriptionPlan: SubscriptionPlan;
  readonly iconPath?: string;
  readonly scopes: readonly Scope[];
  readonly components?: readonly ComponentSpec[];
  readonly settings?: StructuredSettings;
  /** The webhooks to subscribe to; each needs a handler. */
  readonly events: readonly E[];
  readonly handlers: HandlerMap<E>;
  readonly bootstrap?: {
    /**
     * Whether a bootstrap (and each reconciliation) of this installation copies `resource`. By
     * default it copies every resource the scopes allow; return false to leave one out, e.g.
     * when a setting turns that data off. Read when a run starts.
     */
    readonly include?: (resource: BootstrapResource, installation: BootstrapContext) => boolean;
  };
  readonly lint?: {
    /**
     * Clockify documents a limit of 20 webhooks per add-on; set this to turn the error into a
     * warning if your marketplace listing has been granted more.
     */
    readonly allowMoreThan20Webhooks?: boolean;
  };
}

/**
 * Any add-on definition, whatever events it subscribes to: what the platform (manifest, ingress,
 * worker) consumes. Every `AddonDefinition<E>` is one.
 */
export interface RegisteredAddon extends Omit<AddonDefinition, 'events' | 'handlers'> {
  readonly events: readonly WebhookEventName[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler is typed by its own event
  readonly handlers: Partial<Record<WebhookEventName, WebhookHandler<any>>>;
}

/** Identity function that gives an add-on definition its types. */
export function defineAddon<const E extends WebhookEventName>(definition: AddonDefinition<E>): AddonDefinition<E> {
  return definition;
}

/** The manifest-relevant part of a definition. */
export function manifestInputOf(definition: RegisteredAddon): ManifestInput {
  return {
    key: definition.key,
    name: definition.name,
    ...(definition.description !== undefined ? { description: definition.description } : {}),
    minimalSubscriptionPlan: definition.minimalSubscriptionPlan,
    ...(definition.iconPath !== undefined ? { iconPath: definition.iconPath } : {}),
    scopes: definition.scopes,
    ...(definition.components !== undefined ? { components: definition.components } : {}),
    ...(definition.settings !== undefined ? { settings: definition.settings } : {}),
    events: definition.events,
  };
}

/** Looks up the handler of an event, typed loosely for the worker's dispatcher. */
export function handlerFor(definition: RegisteredAddon, event: string): WebhookHandler<WebhookEventName> | undefined {
  const handlers = definition.handlers as Partial<Record<string, WebhookHandler<WebhookEventName>>>;
  return Object.prototype.hasOwnProperty.call(handlers, event) ? handlers[event] : undefined;
}
