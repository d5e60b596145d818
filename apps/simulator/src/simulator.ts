import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isWebhookEventName, type LifecycleType, type WebhookEventName } from '@cap/clockify';
import { silentLogger, type Logger } from '@cap/observability';
import type { ApiTokenClaims } from './api/auth.js';
import { createMockApi, type MockApi, type MockApiOptions } from './api/server.js';
import { getJson, postJson, type DeliveryResult } from './http.js';
import {
  InstallationRegistry,
  type Installation,
  type InstallationStatus,
  type LifecycleClaims,
  type PathStyle,
  type SettingValue,
} from './installations.js';
import { defaultDataDir, loadOrCreateKeys, simulatorDir, type SimulatorKeys } from './keys.js';
import { flattenSettings, joinUrl, parseManifest, renderSettings } from './manifest.js';
import { objectId, Rng } from './random.js';
import { MockStore, StoreError, type MockStoreOptions, type StoreChange } from './store/store.js';
import { signInstallationToken, signLifecycleToken, signUserToken, signWebhookToken } from './tokens.js';
import { buildWebhookBody, webhookBodyForChange, type WebhookBody } from './webhooks/bodies.js';
import {
  arrangeBurst,
  MAX_BURST,
  runBurst,
  sha256,
  type BurstOptions,
  type BurstReport,
  type PlannedDelivery,
} from './webhooks/burst.js';
import { CommandInputError, runCommand } from './commands.js';
import { randomChange } from './webhooks/random-change.js';

export interface SimulatorOptions extends Omit<
  MockApiOptions,
  'publicKey' | 'installations' | 'onChange' | 'addonHooks' | 'store' | 'dataDir' | 'commands'
> {
  /**
   * Run the `webhook` and `burst` commands sent to the mock (`POST /_sim/commands/<name>`) with
   * this token in `X-Sim-Control-Token` (what `sim serve` does for the CLI); default none.
   */
  readonly controlToken?: string;
  /** Keys (and, with `persistState`, installations) live under `<dataDir>/simulator`; default `DATA_DIR`. */
  readonly dataDir?: string;
  /** Keep installations in `<dataDir>/simulator/installations.json` (the CLI does); default in memory. */
  readonly persistState?: boolean;
  /** Start the mock API (default true). Without it, give `apiUrl` of a mock running elsewhere. */
  readonly serve?: boolean;
  /** The API URL handed to the add-on when `serve` is false (e.g. a `sim serve` started earlier). */
  readonly apiUrl?: string;
  readonly reportsUrl?: string;
  /** Timeout of each lifecycle call and webhook delivery; default 10 000 ms. */
  readonly deliveryTimeoutMs?: number;
  /** Send the matching webhook when the add-on changes data through the mock API; default true. */
  readonly webhooksForApiChanges?: boolean;
  readonly logger?: Logger;
}

export interface InstallOptions {
  /** The add-on's ingress; the manifest is fetched from `${ingressUrl}/manifest` unless given. */
  readonly ingressUrl?: string;
  readonly manifest?: unknown;
  /** Default: the store's first workspace. */
  readonly workspaceId?: string;
  /** `webhooks[].path` in the INSTALLED body: the manifest path, or `baseUrl + path`. Default relative. */
  readonly pathStyle?: PathStyle;
  /** Whether the lifecycle token carries `workspaceId`/`addonId`. Default with-workspace. */
  readonly lifecycleClaims?: LifecycleClaims;
  /** Deliver to this base URL instead of the manifest's `baseUrl` (e.g. inside Docker). */
  readonly deliveryBaseUrl?: string;
  /** The installation id; default one id per add-on key (stable across reinstalls). */
  readonly addonId?: string;
}

export interface LifecycleResult extends DeliveryResult {
  readonly type: LifecycleType;
  /** The JSON body sent (it holds tokens signed by the local simulator key). */
  readonly payload: Record<string, unknown>;
  /** The exact bytes and the X-Addon-Lifecycle-Token sent, so a test can replay the call. */
  readonly sentBody: string;
  readonly lifecycleToken: string;
  readonly installation: Installation;
}

export interface TargetOptions {
  readonly workspaceId?: string;
  readonly addonKey?: string;
}

export interface SendWebhookOptions extends TargetOptions {
  /** Send this token instead of the event's webhook token (negative tests). */
  readonly token?: string;
  /** Send this `clockify-webhook-event-type` instead of the event. */
  readonly eventHeader?: string;
  /** Deliver to this path instead of the manifest's path for the event. */
  readonly path?: string;
  /** Send even to an uninstalled (DELETED) installation. */
  readonly force?: boolean;
}

export interface WebhookDelivery extends DeliveryResult {
  readonly event: WebhookEventName;
  /** The bytes sent. */
  readonly sentBody: string;
}

export interface ChangeDelivery {
  readonly event: WebhookEventName;
  /** The add-on it was (or would have been) delivered to. */
  readonly addonKey?: string;
  /** The delivery, or why none was made (not installed, event not subscribed). */
  readonly delivery?: WebhookDelivery;
  readonly skipped?: string;
}

export interface MutationResult<T> {
  readonly change: StoreChange<T>;
  readonly deliveries: readonly ChangeDelivery[];
}

/** Store mutations that also send the webhook Clockify would send. */
export const MUTATIONS = [
  'createTag',
  'updateTag',
  'deleteTag',
  'createClient',
  'updateClient',
  'deleteClient',
  'createProject',
  'updateProject',
  'deleteProject',
  'createTask',
  'updateTask',
  'deleteTask',
  'createUserGroup',
  'updateUserGroup',
  'deleteUserGroup',
  'updateUser',
  'changeUserEmail',
  'deactivateUser',
  'activateUser',
  'joinWorkspace',
  'removeUser',
  'inviteUsers',
  'addLimitedUsers',
  'setUserHourlyRate',
  'setUserCostRate',
  'createCustomField',
  'updateCustomField',
  'deleteCustomField',
  'updateWorkspace',
  'createTimeEntry',
  'startTimer',
  'stopTimer',
  'updateTimeEntry',
  'deleteTimeEntry',
  'restoreTimeEntry',
  'splitTimeEntry',
] as const satisfies ReadonlyArray<keyof MockStore>;

type MutationName = (typeof MUTATIONS)[number];
type EntityOf<R> = R extends StoreChange<infer T> ? T : never;
export type Mutations = {
  readonly [K in MutationName]: (
    ...args: Parameters<MockStore[K]>
  ) => Promise<MutationResult<EntityOf<ReturnType<MockStore[K]>>>>;
};

/**
 * Clockify in a box: the mock API, the store behind it, and the sender of lifecycle calls and
 * webhooks, signed with the simulator's key. Build one with {@link createSimulator}.
 */
export class Simulator {
  readonly mutate: Mutations;
  private readonly pending = new Set<Promise<unknown>>();
  /** `workspace|addonKey|event` of webhooks whose delivery Clockify switched off. */
  private readonly undelivered = new Set<string>();
  private readonly rng: Rng;

  constructor(
    readonly keys: SimulatorKeys,
    readonly store: MockStore,
    readonly installations: InstallationRegistry,
    readonly api: MockApi | undefined,
    private readonly apiUrl: string,
    private readonly reportsUrl: string,
    private readonly options: { deliveryTimeoutMs: number; logger: Logger },
  ) {
    this.rng = new Rng(randomBytes(16).toString('hex'));
    const mutate: Record<string, unknown> = {};
    for (const name of MUTATIONS) {
      mutate[name] = async (...args: unknown[]) => {
        const change = (store[name] as (...a: unknown[]) => StoreChange)(...args);
        return { change, deliveries: await this.deliverChange(change) };
      };
    }
    this.mutate = mutate as Mutations;
  }

  /** Give this to the add-on as `CLOCKIFY_PUBLIC_KEY_FILE`. */
  get publicKeyPath(): string {
    return this.keys.publicKeyPath;
  }

  /** The `apiUrl` handed to the add-on. */
  get url(): string {
    return this.apiUrl;
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Installs an add-on on a workspace: signs an installation token and one token per manifest
   * webhook, remembers them, and POSTs INSTALLED to `baseUrl + lifecycle path` with
   * `X-Addon-Lifecycle-Token`. Installing over a live installation is a reinstall: new tokens,
   * the old ones revoked once the add-on answered.
   */
  async install(options: InstallOptions): Promise<LifecycleResult> {
    const manifestDoc = options.manifest ?? (await this.fetchManifest(options.ingressUrl));
    const manifest = parseManifest(manifestDoc);
    const workspaceId = options.workspaceId ?? (this.store.workspaceIds()[0] as string);
    const { ownerId, addonUserId } = this.store.principals(workspaceId);
    const previous = this.installations.get(workspaceId, manifest.key);
    const addonId =
      options.addonId ?? previous?.addonId ?? objectId(new Rng(`addon:${manifest.key}`), Date.UTC(2024, 0, 1));
    const subject = { addonKey: manifest.key, workspaceId, addonId };
    const installationToken = await signInstallationToken(this.keys, {
      ...subject,
      ownerId,
      apiUrl: this.apiUrl,
      reportsUrl: this.reportsUrl,
    });
    const webhookTokens: Partial<Record<WebhookEventName, string>> = {};
    const webhooks: Array<{ path: string; webhookType: 'ADDON'; authToken: string }> = [];
    const pathStyle = options.pathStyle ?? 'relative';
    for (const w of manifest.webhooks) {
      const token = await signWebhookToken(this.keys, subject);
      if (isWebhookEventName(w.event) && webhookTokens[w.event] === undefined) webhookTokens[w.event] = token;
      webhooks.push({
        path: pathStyle === 'full' ? joinUrl(manifest.baseUrl, w.path) : w.path,
        webhookType: 'ADDON',
        authToken: token,
      });
    }
    const now = new Date().toISOString();
    const installation: Installation = {
      addonKey: manifest.key,
      addonId,
      workspaceId,
      asUser: ownerId,
      addonUserId,
      apiUrl: this.apiUrl,
      reportsUrl: this.reportsUrl,
      deliveryBaseUrl: options.deliveryBaseUrl ?? manifest.baseUrl,
      manifest,
      pathStyle,
      lifecycleClaims: options.lifecycleClaims ?? 'with-workspace',
      installationToken,
      webhookTokens,
      status: 'ACTIVE',
      settings: flattenSettings(manifest.settings),
      installedAt: now,
      updatedAt: now,
    };
    this.installations.put(installation);
    const payload = {
      addonId,
      authToken: installationToken,
      workspaceId,
      asUser: ownerId,
      apiUrl: this.apiUrl,
      addonUserId,
      webhooks,
    };
    const result = await this.sendLifecycle(installation, 'INSTALLED', payload);
    if (previous && previous.status !== 'DELETED') this.installations.revoke(tokensOf(previous));
    return result;
  }

  /** Sends DELETED and revokes every token of the installation (the mock answers 401 to them). */
  async uninstall(target: TargetOptions = {}): Promise<LifecycleResult> {
    const inst = this.live(target);
    const deleted = this.installations.update(inst.workspaceId, inst.addonKey, { status: 'DELETED' });
    const result = await this.sendLifecycle(deleted, 'DELETED', {
      addonId: inst.addonId,
      workspaceId: inst.workspaceId,
      asUser: inst.asUser,
    });
    this.installations.revoke(tokensOf(inst));
    return result;
  }

  /**
   * Sends SETTINGS_UPDATED with every setting as `{id, name, value}`: the stored values (from the
   * manifest's structured settings at install) with `values` applied by id.
   */
  async updateSettings(
    values: Readonly<Record<string, unknown>> | readonly SettingValue[] = {},
    target: TargetOptions = {},
  ): Promise<LifecycleResult> {
    const inst = this.live(target);
    const changes = new Map<string, { name?: string; value: unknown }>();
    if (isSettingList(values)) for (const v of values) changes.set(v.id, { name: v.name, value: v.value });
    else for (const [id, value] of Object.entries(values)) changes.set(id, { value });
    const settings: SettingValue[] = inst.settings.map((s) => {
      const c = changes.get(s.id);
      return c ? { id: s.id, name: c.name ?? s.name, value: c.value } : s;
    });
    for (const [id, c] of changes)
      if (!inst.settings.some((s) => s.id === id)) settings.push({ id, name: c.name ?? id, value: c.value });
    const updated = this.installations.update(inst.workspaceId, inst.addonKey, { settings });
    return this.sendLifecycle(updated, 'SETTINGS_UPDATED', {
      workspaceId: inst.workspaceId,
      addonId: inst.addonId,
      settings,
    });
  }

  /** Sends STATUS_CHANGED (ACTIVE or INACTIVE). */
  async setStatus(
    status: Exclude<InstallationStatus, 'DELETED'>,
    target: TargetOptions = {},
  ): Promise<LifecycleResult> {
    if (status !== 'ACTIVE' && status !== 'INACTIVE') throw new Error('status must be ACTIVE or INACTIVE');
    const inst = this.live(target);
    const updated = this.installations.update(inst.workspaceId, inst.addonKey, { status });
    return this.sendLifecycle(updated, 'STATUS_CHANGED', {
      addonId: inst.addonId,
      workspaceId: inst.workspaceId,
      status,
    });
  }

  /** The live installation for a target (the only one when the target is empty). */
  installation(target: TargetOptions = {}): Installation {
    return this.live(target);
  }

  // ------------------------------------------------------------------ webhooks

  /** A realistic body for `event` in a workspace (the store is not changed). */
  buildWebhook(event: WebhookEventName, options: { workspaceId?: string } = {}): WebhookBody {
    if (!isWebhookEventName(event)) throw new Error(`"${String(event)}" is not a Clockify webhook event`);
    const workspaceId = options.workspaceId ?? this.defaultWorkspace();
    return buildWebhookBody(event, { store: this.store, workspaceId, rng: this.rng });
  }

  /**
   * POSTs a webhook to `baseUrl + path` of the event's manifest entry with the headers Clockify
   * sends: `clockify-signature` (the event's webhook token from the install),
   * `clockify-webhook-event-type` and `Content-Type: application/json`.
   */
  async sendWebhook(
    event: WebhookEventName,
    body: WebhookBody | string,
    options: SendWebhookOptions = {},
  ): Promise<WebhookDelivery> {
    const inst = options.force ? this.any(options) : this.live(options);
    const entry = inst.manifest.webhooks.find((w) => w.event === event);
    if (!entry && options.path === undefined) {
      throw new Error(`the add-on ${inst.addonKey} does not subscribe to ${event}; Clockify would not deliver it`);
    }
    const token = options.token ?? inst.webhookTokens[event];
    if (token === undefined) throw new Error(`no webhook token for ${event}; reinstall the add-on`);
    const sentBody = typeof body === 'string' ? body : JSON.stringify(body);
    const url = joinUrl(inst.deliveryBaseUrl, options.path ?? (entry as { path: string }).path);
    const result = await postJson(
      url,
      sentBody,
      { 'clockify-signature': token, 'clockify-webhook-event-type': options.eventHeader ?? event },
      { timeoutMs: this.options.deliveryTimeoutMs },
    );
    return { ...result, event, sentBody };
  }

  /**
   * Makes `event` happen: a real store change where the store models it (a new tag for NEW_TAG, a
   * stopped timer for TIMER_STOPPED, …), else a synthesized body; then delivers the webhook.
   */
  async trigger(
    event: WebhookEventName,
    options: SendWebhookOptions & { mutate?: boolean } = {},
  ): Promise<WebhookDelivery & { change?: StoreChange }> {
    const workspaceId = options.workspaceId ?? this.live(options).workspaceId;
    const change = options.mutate === false ? undefined : randomChange(this.store, workspaceId, event, this.rng);
    const body = change
      ? webhookBodyForChange(this.store, change)
      : buildWebhookBody(event, { store: this.store, workspaceId, rng: this.rng });
    const delivery = await this.sendWebhook(event, body, { ...options, workspaceId });
    return change ? { ...delivery, change } : delivery;
  }

  /**
   * Sends many webhooks at a steady rate: distinct deliveries (from real store changes where
   * possible), some sent twice byte-for-byte, optionally shuffled within small windows.
   */
  async burst(options: BurstOptions): Promise<BurstReport> {
    if (!Number.isInteger(options.count) || options.count < 1 || options.count > MAX_BURST) {
      throw new Error(`count must be an integer between 1 and ${MAX_BURST}`);
    }
    const inst = this.live(options);
    const subscribed = [...new Set(inst.manifest.webhooks.map((w) => w.event).filter(isWebhookEventName))];
    const events = options.events ?? subscribed;
    const missing = events.filter((e) => !subscribed.includes(e));
    if (missing.length > 0) throw new Error(`the add-on does not subscribe to ${missing.join(', ')}`);
    if (events.length === 0) throw new Error('the add-on subscribes to no webhook events');
    const rng = new Rng(options.seed ?? randomBytes(16).toString('hex'));
    const seen = new Set<string>();
    const unique: PlannedDelivery[] = [];
    let mutations = 0;
    for (let seq = 0; seq < options.count; seq++) {
      const event = rng.pick(events);
      let body: string | undefined;
      for (let attempt = 0; attempt < 8 && body === undefined; attempt++) {
        const change = options.mutate === false ? undefined : randomChange(this.store, inst.workspaceId, event, rng);
        const candidate = JSON.stringify(
          change
            ? webhookBodyForChange(this.store, change)
            : buildWebhookBody(event, { store: this.store, workspaceId: inst.workspaceId, rng }),
        );
        if (!seen.has(`${event}:${sha256(candidate)}`)) {
          body = candidate;
          if (change) mutations++;
        }
      }
      // Identical content counts as a duplicate downstream, so distinct deliveries must differ.
      body ??= JSON.stringify({
        ...buildWebhookBody(event, { store: this.store, workspaceId: inst.workspaceId, rng }),
        simulatorSeq: seq,
      });
      const bodySha256 = sha256(body);
      seen.add(`${event}:${bodySha256}`);
      unique.push({ seq, event, body, bodySha256 });
    }
    const plan = arrangeBurst(unique, rng, options);
    return runBurst(
      inst.workspaceId,
      plan,
      (d) => this.sendWebhook(d.event, d.body, { workspaceId: inst.workspaceId, addonKey: inst.addonKey }),
      {
        ...(options.rate !== undefined ? { rate: options.rate } : {}),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        ...(options.keepDeliveries !== undefined ? { keepDeliveries: options.keepDeliveries } : {}),
        mutations,
        reordered: options.reorder !== undefined && options.reorder !== false,
      },
    );
  }

  /**
   * Delivers the webhooks of a change (and of the changes it caused first) to every live
   * installation on the workspace that subscribes to the event.
   */
  async deliverChange(change: StoreChange): Promise<ChangeDelivery[]> {
    const out: ChangeDelivery[] = [];
    for (const c of [...(change.also ?? []), change]) {
      if (!c.event) continue;
      const live = this.installations.list().filter((i) => i.workspaceId === c.workspaceId && i.status !== 'DELETED');
      if (live.length === 0) {
        out.push({ event: c.event, skipped: 'no add-on installed on this workspace' });
        continue;
      }
      const body = JSON.stringify(webhookBodyForChange(this.store, c));
      for (const inst of live) {
        if (!inst.manifest.webhooks.some((w) => w.event === c.event)) {
          out.push({
            event: c.event,
            addonKey: inst.addonKey,
            skipped: `${inst.addonKey} does not subscribe to ${c.event}`,
          });
          continue;
        }
        const delivery = await this.sendWebhook(c.event, body, {
          workspaceId: inst.workspaceId,
          addonKey: inst.addonKey,
        });
        out.push({ event: c.event, addonKey: inst.addonKey, delivery });
      }
    }
    return out;
  }

  /** Waits for webhooks of changes made through the API that are still being delivered. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** A user token (30 minutes) for a user of an installation's workspace, as a component would get. */
  async userToken(userId: string, target: TargetOptions = {}): Promise<string> {
    const inst = this.live(target);
    // Clockify's user token carries the viewer's own role (`workspaceRole`), not the owner's.
    const workspaceRole = this.store.userRole(inst.workspaceId, userId);
    return signUserToken(this.keys, {
      addonKey: inst.addonKey,
      workspaceId: inst.workspaceId,
      addonId: inst.addonId,
      userId,
      apiUrl: inst.apiUrl,
      reportsUrl: inst.reportsUrl,
      workspaceRole,
    });
  }

  async close(): Promise<void> {
    await this.settle();
    await this.api?.close();
  }

  // ------------------------------------------------------------------ internals

  /** Called by the mock API for each change an add-on makes through it. */
  onApiChange(change: StoreChange): void {
    const p = this.deliverChange(change).catch((err: unknown) => {
      this.options.logger.warn({ err, event: change.event }, 'webhook for an API change failed');
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Answers the add-on endpoints of the mock from the installations. */
  addonSettings(workspaceId: string, claims: ApiTokenClaims): unknown {
    const inst = this.forClaims(workspaceId, claims);
    return renderSettings(inst.manifest.settings, inst.settings);
  }

  async patchAddonSettings(
    workspaceId: string,
    claims: ApiTokenClaims,
    values: ReadonlyArray<{ id: string; value: unknown }>,
  ): Promise<unknown> {
    const inst = this.forClaims(workspaceId, claims);
    const result = await this.updateSettings(Object.fromEntries(values.map((v) => [v.id, v.value])), {
      workspaceId,
      addonKey: inst.addonKey,
    });
    return renderSettings(result.installation.manifest.settings, result.installation.settings);
  }

  /**
   * The installation's webhooks as Clockify lists them (WebhooksDtoV1), with the delivery flags
   * `setWebhookDelivery` set: Clockify turns `deliveryEnabled` off after repeated failures.
   */
  addonWebhooks(workspaceId: string, addonId: string, claims: ApiTokenClaims): unknown {
    const inst = this.forClaims(workspaceId, claims);
    if (inst.addonId !== addonId) throw new StoreError(404, 'Addon not found');
    const webhooks = inst.manifest.webhooks.map((w) => {
      const event = w.event as WebhookEventName;
      return {
        id: createHash('sha256').update(`${inst.addonId}:${event}`).digest('hex').slice(0, 24),
        name: `${inst.addonKey} ${event}`,
        url: joinUrl(inst.deliveryBaseUrl, w.path),
        webhookEvent: event,
        enabled: true,
        deliveryEnabled: !this.undelivered.has(`${inst.workspaceId}|${inst.addonKey}|${event}`),
        planEnabled: true,
        triggerSourceType: 'WORKSPACE_ID',
        triggerSource: [inst.workspaceId],
        userId: inst.addonUserId,
        workspaceId: inst.workspaceId,
        authToken: inst.webhookTokens[event] ?? '',
      };
    });
    return { webhooks, workspaceWebhookCount: webhooks.length };
  }

  /** Turns an installation's webhook delivery off (as Clockify does after repeated failures) or back on. */
  setWebhookDelivery(event: WebhookEventName, enabled: boolean, target: TargetOptions = {}): void {
    const inst = this.live(target);
    const key = `${inst.workspaceId}|${inst.addonKey}|${event}`;
    if (enabled) this.undelivered.delete(key);
    else this.undelivered.add(key);
  }

  async exchangeUserToken(claims: ApiTokenClaims, userId: string): Promise<string> {
    const inst = this.forClaims(claims.workspaceId, claims);
    return this.userToken(userId, { workspaceId: inst.workspaceId, addonKey: inst.addonKey });
  }

  private forClaims(workspaceId: string, claims: ApiTokenClaims): Installation {
    const inst = this.installations.get(workspaceId, typeof claims.sub === 'string' ? claims.sub : undefined);
    if (!inst || inst.status === 'DELETED') throw new Error(`no add-on installed on workspace ${workspaceId}`);
    return inst;
  }

  private async sendLifecycle(
    inst: Installation,
    type: LifecycleType,
    payload: Record<string, unknown>,
  ): Promise<LifecycleResult> {
    const entry = inst.manifest.lifecycle.find((l) => l.type === type);
    if (!entry)
      throw new Error(
        `the manifest of ${inst.addonKey} declares no ${type} lifecycle path; Clockify would not call it`,
      );
    const token = await signLifecycleToken(this.keys, {
      addonKey: inst.addonKey,
      workspaceId: inst.workspaceId,
      addonId: inst.addonId,
      withWorkspace: inst.lifecycleClaims === 'with-workspace',
    });
    const sentBody = JSON.stringify(payload);
    const result = await postJson(
      joinUrl(inst.deliveryBaseUrl, entry.path),
      sentBody,
      { 'X-Addon-Lifecycle-Token': token },
      { timeoutMs: this.options.deliveryTimeoutMs },
    );
    this.options.logger.info({ type, workspaceId: inst.workspaceId, status: result.status }, 'lifecycle call sent');
    return { ...result, type, payload, sentBody, lifecycleToken: token, installation: inst };
  }

  private async fetchManifest(ingressUrl: string | undefined): Promise<unknown> {
    if (!ingressUrl)
      throw new Error(
        'install needs an ingressUrl (the manifest is fetched from `${ingressUrl}/manifest`) or a manifest',
      );
    return getJson(joinUrl(ingressUrl, '/manifest'), this.options.deliveryTimeoutMs);
  }

  private defaultWorkspace(): string {
    const live = this.installations.list().filter((i) => i.status !== 'DELETED');
    return live.length === 1 ? (live[0] as Installation).workspaceId : (this.store.workspaceIds()[0] as string);
  }

  private live(target: TargetOptions): Installation {
    const candidates = this.installations
      .list()
      .filter(
        (i) =>
          i.status !== 'DELETED' &&
          (target.workspaceId === undefined || i.workspaceId === target.workspaceId) &&
          (target.addonKey === undefined || i.addonKey === target.addonKey),
      );
    if (candidates.length === 1) return candidates[0] as Installation;
    const where = target.workspaceId ? ` on workspace ${target.workspaceId}` : '';
    if (candidates.length === 0) throw new Error(`no add-on is installed${where}; run install first`);
    throw new Error(`several add-ons are installed${where}; say which with workspaceId/addonKey`);
  }

  private any(target: TargetOptions): Installation {
    try {
      return this.live(target);
    } catch {
      const all = this.installations
        .list()
        .filter(
          (i) =>
            (target.workspaceId === undefined || i.workspaceId === target.workspaceId) &&
            (target.addonKey === undefined || i.addonKey === target.addonKey),
        );
      if (all.length === 0) throw new Error('no add-on was ever installed here');
      return all[all.length - 1] as Installation;
    }
  }
}

function isSettingList(
  values: Readonly<Record<string, unknown>> | readonly SettingValue[],
): values is readonly SettingValue[] {
  return Array.isArray(values);
}

function tokensOf(inst: Installation): string[] {
  return [
    inst.installationToken,
    ...Object.values(inst.webhookTokens).filter((t): t is string => typeof t === 'string'),
  ];
}

/**
 * Creates a simulator: loads (or creates) its key pair under `<dataDir>/simulator`, generates the
 * seeded store and, unless `serve: false`, starts the mock API on it.
 */
export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const dataDir = options.dataDir ?? defaultDataDir();
  const logger = options.logger ?? silentLogger();
  const keys = await loadOrCreateKeys(dataDir);
  const installations = new InstallationRegistry(
    options.persistState ? { file: join(simulatorDir(dataDir), 'installations.json') } : {},
  );
  const storeOptions: MockStoreOptions = {
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.workspaces ? { workspaces: options.workspaces } : {}),
    ...(options.sizes ? { sizes: options.sizes } : {}),
    ...(options.nowMs !== undefined ? { nowMs: options.nowMs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  };
  const store = new MockStore(storeOptions);
  // The mock's hooks need the simulator, which needs the mock's URL: tie the knot through a holder.
  const ref: { sim?: Simulator } = {};
  let api: MockApi | undefined;
  if (options.serve !== false) {
    api = await createMockApi({
      ...options,
      store,
      publicKey: keys.publicKey,
      installations,
      logger,
      ...(options.webhooksForApiChanges === false
        ? {}
        : { onChange: (change: StoreChange) => ref.sim?.onApiChange(change) }),
      ...(options.controlToken
        ? {
            commands: {
              token: options.controlToken,
              run: (name: string, input: unknown) => runCommand(ref.sim as Simulator, name, input),
              isInputError: (err: unknown) => err instanceof CommandInputError,
            },
          }
        : {}),
      addonHooks: {
        getSettings: (ws, claims) => (ref.sim as Simulator).addonSettings(ws, claims),
        updateSettings: (ws, claims, values) => (ref.sim as Simulator).patchAddonSettings(ws, claims, values),
        userToken: (claims, userId) => (ref.sim as Simulator).exchangeUserToken(claims, userId),
        addonWebhooks: (ws, addonId, claims) => (ref.sim as Simulator).addonWebhooks(ws, addonId, claims),
      },
    });
  }
  const apiUrl = api?.url ?? options.apiUrl;
  if (!apiUrl) throw new Error('without serve, the simulator needs the apiUrl of a running mock');
  const reportsUrl = api?.reportsUrl ?? options.reportsUrl ?? `${new URL(apiUrl).origin}/reports`;
  const simulator = new Simulator(keys, store, installations, api, apiUrl, reportsUrl, {
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 10_000,
    logger,
  });
  ref.sim = simulator;
  return simulator;
}
