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
import type { Database, Kysely, Migration, Transaction } from '@cap/db';
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

/** What a page of the add-on receives, once the viewer's user token is verified. */
export interface PageContext extends SettingsView {
  readonly workspaceId: string;
  /** The installation the token names (its `addonId` claim). */
  readonly addonId: string;
  /** The viewing user (the token's `user` claim) and their workspace role (`workspaceRole`). */
  readonly userId?: string;
  readonly workspaceRole?: string;
  /** The query string of the request, without `auth_token`. */
  readonly query: URLSearchParams;
  /**
   * The nonce of this response's Content-Security-Policy: only `<style nonce="…">` blocks carrying
   * it apply (no scripts, no remote resources, no forms).
   */
  readonly nonce: string;
  /**
   * The database, for reads of the mirror and of the add-on's own tables
   * (`ctx.db.withTables<MyTables>()` types them).
   */
  readonly db: Kysely<Database>;
  readonly logger: Logger;
}

/**
 * A page of the add-on, served by the ingress at `GET <path>` with the checks and headers of the
 * platform's sidebar: the `auth_token` query parameter must be a valid user token of an installed
 * workspace; the response is `no-store`, framed by Clockify only, and its CSP allows nothing but
 * the nonce's styles. Declare a component (`components`) with the same `path` to show it in
 * Clockify; if that component is for `ADMINS`, the ingress also requires the token's
 * `workspaceRole` to be `OWNER` or `WORKSPACE_ADMIN`.
 */
export interface AddonPage {
  /** Path under the add-on's base URL, e.g. `/ui/report`; not `/ui/sidebar` (the platform's). */
  readonly path: string;
  /** Returns the page's HTML. Escape everything that comes from data (`escapeHtml`). */
  readonly render: (ctx: PageContext) => Promise<string> | string;
}

/** Paths the platform serves itself; a page cannot take them. */
const RESERVED_PATHS =
  /^\/(?:ui\/sidebar|manifest(?:\.json)?|health|ready|metrics)$|^\/(?:assets|admin|webhooks|lifecycle|ui\/api-studio)(?:\/|$)/;

/**
 * What is wrong with the definition's pages, one message each: a path that is not a plain
 * absolute path (letters, digits, `-`, `_`, `.`, `/`, not ending in `/`), one the platform
 * serves itself, or one declared twice. The ingress refuses to start on any.
 */
export function pageProblems(definition: Pick<RegisteredAddon, 'pages'>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [i, page] of (definition.pages ?? []).entries()) {
    const path = page.path;
    if (typeof path !== 'string' || !/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(path) || path.includes('//')) {
      problems.push(`page ${i} path ${JSON.stringify(path)} must be an absolute path like /ui/report`);
    } else if (RESERVED_PATHS.test(path)) {
      problems.push(`page ${i} path ${path} is served by the platform`);
    } else if (seen.has(path)) {
      problems.push(`page ${i} path ${path} is declared twice`);
    }
    seen.add(path);
    if (typeof page.render !== 'function') problems.push(`page ${i} (${String(path)}) has no render function`);
  }
  return problems;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

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
  /**
   * The add-on's own tables: Kysely migrations by name, applied in name order after the
   * platform's (at start, or with `npm run db:migrate`), recorded in `addon_migrations_<key>`.
   * Name tables after the add-on (e.g. `mirror_notes`) so they never meet the platform's.
   * Handlers write them through `ctx.tx`, pages read them through `ctx.db`.
   */
  readonly migrations?: Readonly<Record<string, Migration>>;
  /** Pages served by the ingress (see `AddonPage`); a component shows one in Clockify. */
  readonly pages?: readonly AddonPage[];
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
