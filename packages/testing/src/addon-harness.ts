import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PendingMirrorWrites,
  handlerFor,
  invokeHandler,
  settingsView,
  type InstallationSetting,
  type RegisteredAddon,
} from '@cap/addon';
import {
  ClockifyClient,
  ENTITY_EVENTS,
  bodyKindOf,
  entityIdOf,
  isWebhookEventName,
  type WebhookEventName,
} from '@cap/clockify';
import {
  getEntity,
  listEntities,
  migrateToLatest,
  openDatabase,
  type Database,
  type DatabaseHandle,
  type EntityChange,
  type Kysely,
  type WorkspaceEntity,
} from '@cap/db';
import { createLogger } from '@cap/observability';
import { createSimulator, signInstallationToken, type Simulator, type WebhookBody } from '@cap/simulator';

/** One `ctx.mirror` write the handler made, and whether its rule applied it. */
export interface RecordedMirrorWrite {
  readonly change: EntityChange;
  readonly entityType: string;
  readonly entityId: string;
  readonly data: Record<string, unknown>;
  /** False when the write's rule refused it (a creation that found a copy, an update after a delete). */
  readonly applied: boolean;
}

/** One Clockify API request the handler made through `ctx.api`. */
export interface RecordedApiCall {
  readonly method: string;
  /** Path under the API's base URL and query, as the spec names operations: `/v1/workspaces/…/tags`. */
  readonly path: string;
  readonly status: number;
}

/** One log record the handler wrote through `ctx.logger`. */
export interface RecordedLog {
  readonly level: string;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

/** What one handler run did. */
export interface HandlerRun {
  readonly mirrorWrites: readonly RecordedMirrorWrite[];
  readonly apiCalls: readonly RecordedApiCall[];
  readonly logs: readonly RecordedLog[];
}

export interface RunOptions {
  /** Stored settings of the installation for this run, by id (default: the harness's, else the manifest defaults). */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** `ctx.attempt` (default 1). */
  readonly attempt?: number;
}

export interface HandlerHarnessOptions {
  /** Seed of the mock workspace's generated data (default 1). */
  readonly seed?: number;
  /** Stored settings of the installation, by id, for every run (default: the manifest defaults). */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Log level of `ctx.logger` (default `debug`, so every record is kept). */
  readonly logLevel?: string;
}

const ADDON_ID = '65f0c0ffee0000000000a11d';

/**
 * Runs one add-on's webhook handlers as the worker does, without Redis or a queue: each run gets
 * a real `ctx.tx` on an embedded PGlite database (the platform's migrations and the add-on's own
 * applied), `ctx.mirror` with the platform's write rules, `ctx.api` bound to a mock Clockify API
 * (the simulator's, serving a generated workspace), and `ctx.settings` read like the worker reads
 * them. A run returns the mirror writes, API calls and log records it made; its database effects
 * commit, so the next run sees them.
 *
 * ```ts
 * const harness = await HandlerHarness.start(addon);
 * const run = await harness.run('NEW_PROJECT', harness.body('NEW_PROJECT'));
 * expect(run.mirrorWrites).toHaveLength(1);
 * await harness.close();
 * ```
 */
export class HandlerHarness {
  /** The last entity sequence given to a run (the ingress numbers an entity's deliveries so). */
  private sequence = 0;

  private constructor(
    readonly addon: RegisteredAddon,
    readonly simulator: Simulator,
    private readonly database: DatabaseHandle,
    private readonly dataDir: string,
    private readonly token: string,
    private readonly options: HandlerHarnessOptions,
    /** The mock workspace every run belongs to. */
    readonly workspaceId: string,
  ) {}

  static async start(addon: RegisteredAddon, options: HandlerHarnessOptions = {}): Promise<HandlerHarness> {
    const dataDir = mkdtempSync(join(tmpdir(), 'addon-harness-'));
    let simulator: Simulator | undefined;
    let database: DatabaseHandle | undefined;
    try {
      simulator = await createSimulator({
        dataDir,
        seed: options.seed ?? 1,
        workspaces: 1,
        sizes: {
          users: 4,
          userGroups: 1,
          clients: 2,
          projects: 3,
          tasksPerProject: 2,
          tags: 3,
          customFields: 1,
          entries: 20,
        },
        webhooksForApiChanges: false,
      });
      database = await openDatabase({ dataDir: join(dataDir, 'db') });
      await migrateToLatest(database.db, addon);
      const workspaceId = simulator.store.workspaceIds()[0]!;
      const token = await signInstallationToken(simulator.keys, {
        addonKey: addon.key,
        workspaceId,
        addonId: ADDON_ID,
        ownerId: simulator.store.principals(workspaceId).ownerId,
        apiUrl: simulator.url,
      });
      return new HandlerHarness(addon, simulator, database, dataDir, token, options, workspaceId);
    } catch (err) {
      await database?.close().catch(() => undefined);
      await simulator?.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The database the runs commit in: read the mirror or the add-on's own tables from it. */
  get db(): Kysely<Database> {
    return this.database.db;
  }

  /** A Clockify-shaped body for `event`, about the mock workspace's data (nothing is changed). */
  body(event: WebhookEventName): WebhookBody {
    return this.simulator.buildWebhook(event, { workspaceId: this.workspaceId });
  }

  /** The stored copy of one entity of the mock workspace, if any. */
  entity(entityType: string, entityId: string): Promise<WorkspaceEntity | undefined> {
    return getEntity(this.db, { workspaceId: this.workspaceId, entityType, entityId });
  }

  /** The stored copies of the mock workspace (deleted ones too), optionally of one type. */
  entities(entityType?: string): Promise<WorkspaceEntity[]> {
    return listEntities(this.db, this.workspaceId, entityType, { includeDeleted: true });
  }

  /**
   * Runs the add-on's handler of `event` on `body` in one transaction, as the worker does for one
   * delivery, and returns what it did. Throws what the handler throws (the transaction is then
   * rolled back, as the worker would before retrying); an event without a handler is an error.
   */
  async run(event: WebhookEventName, body: object | string, opts: RunOptions = {}): Promise<HandlerRun> {
    if (!isWebhookEventName(event)) throw new Error(`${String(event)} is not a Clockify webhook event`);
    const handler = handlerFor(this.addon, event);
    if (!handler)
      throw new Error(`the add-on has no handler for ${event} (its events: ${this.addon.events.join(', ')})`);
    const payload = (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>;
    const stored = Object.entries(opts.settings ?? this.options.settings ?? {}).map(
      ([id, value]): InstallationSetting => ({ id, value }),
    );

    const logs: RecordedLog[] = [];
    const logger = createLogger(
      { name: 'handler', level: this.options.logLevel ?? 'debug' },
      { write: (line: string) => void logs.push(JSON.parse(line) as RecordedLog) },
    ).child({ workspaceId: this.workspaceId, event });
    const apiCalls: RecordedApiCall[] = [];
    const basePath = new URL(this.simulator.url).pathname.replace(/\/$/, '');
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      const path = url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) : url.pathname;
      apiCalls.push({ method, path: path + url.search, status: response.status });
      return response;
    };
    const api = new ClockifyClient({
      baseUrl: this.simulator.url,
      token: this.token,
      workspaceId: this.workspaceId,
      allowedHosts: [new URL(this.simulator.url).hostname],
      maxRetries: 0,
      fetch: recordingFetch,
    });

    let mirrorWrites: RecordedMirrorWrite[] = [];
    const entityType = ENTITY_EVENTS[event as keyof typeof ENTITY_EVENTS]?.entityType;
    const entityId = entityIdOf(event, payload);
    await this.db.transaction().execute(async (tx) => {
      const pending = new PendingMirrorWrites();
      await invokeHandler(tx, pending, {
        handler,
        event,
        body: payload,
        workspaceId: this.workspaceId,
        addonId: ADDON_ID,
        bodyKind: bodyKindOf(event),
        deliveryKey: 'test'.padEnd(64, '0'),
        attempt: opts.attempt ?? 1,
        receivedAt: new Date(),
        settings: settingsView(stored, this.addon.settings),
        api: () => api,
        logger: () => logger,
        // Like a delivery the ingress sequenced: the entity's writes carry a sequence above any before.
        ...(entityType && entityId ? { entity: { entityType, entityId, seq: ++this.sequence } } : {}),
      });
      const kept = pending.kept();
      const refused = new Set(await pending.apply(tx));
      mirrorWrites = kept.map((w) => ({
        change: w.change,
        entityType: w.entityType,
        entityId: w.entityId,
        data: w.data,
        applied: !refused.has(w),
      }));
    });
    return { mirrorWrites, apiCalls, logs };
  }

  async close(): Promise<void> {
    await this.database.close().catch(() => undefined);
    await this.simulator.close().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
