import { sql, type Kysely, type Transaction } from 'kysely';
import type {
  Database,
  Installation,
  InstallationStatus,
  InstallationWebhook,
  LifecycleReceipt,
  SkippedWebhookRecord,
  WebhookHealth,
} from '../tables/index.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface InstallationKey {
  readonly workspaceId: string;
  readonly addonId: string;
}

/**
 * The sequences that change whenever anything a webhook depends on changes: INSTALLED/DELETED
 * (tokens, API URL, status) bump `last_seq`, STATUS_CHANGED `status_seq`, SETTINGS_UPDATED
 * `settings_seq`. A cached installation is still current while all three are unchanged.
 */
export interface InstallationVersion {
  readonly lastSeq: number;
  readonly statusSeq: number;
  readonly settingsSeq: number;
}

export async function getInstallation(db: Db, key: InstallationKey): Promise<Installation | undefined> {
  return db
    .selectFrom('installations')
    .selectAll()
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .executeTakeFirst();
}

/** The most recently installed installation of a workspace, whatever the add-on. */
export async function latestInstallationOfWorkspace(db: Db, workspaceId: string): Promise<Installation | undefined> {
  return db
    .selectFrom('installations')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('installed_at', 'desc')
    .executeTakeFirst();
}

/** The stored webhook token hash of each event of an installation. */
export async function webhookTokenHashes(db: Db, key: InstallationKey): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('installation_webhooks')
    .select(['event', 'token_hash'])
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .execute();
  return new Map(rows.map((r) => [r.event, r.token_hash]));
}

export async function listInstallations(
  db: Db,
  opts: { status?: InstallationStatus; limit?: number; offset?: number } = {},
): Promise<Installation[]> {
  let q = db.selectFrom('installations').selectAll();
  if (opts.status) q = q.where('status', '=', opts.status);
  return q
    .orderBy('installed_at', 'desc')
    .orderBy('workspace_id')
    .limit(Math.min(opts.limit ?? 100, 1000))
    .offset(opts.offset ?? 0)
    .execute();
}

export interface InstalledInput extends InstallationKey {
  readonly seq: number;
  readonly apiUrl: string | null;
  readonly backendUrl: string | null;
  readonly reportsUrl: string | null;
  readonly addonUserId: string | null;
  readonly installedBy: string | null;
  readonly authTokenEnc: string;
  /** SHA-256 of the installation token (absent in jobs queued before it was recorded). */
  readonly authTokenHash: string | null;
  readonly webhooks: readonly { event: string; path: string; tokenEnc: string; tokenHash: string }[];
  /** INSTALLED webhooks[] entries the ingress did not accept (default none). */
  readonly skippedWebhooks?: readonly SkippedWebhookRecord[];
}

/**
 * Applies INSTALLED if its sequence is newer than the installation's last INSTALLED/DELETED:
 * (re)activates, replaces the tokens and per-event webhook tokens, and cancels a pending purge.
 * A STATUS_CHANGED or SETTINGS_UPDATED that was applied with a newer sequence keeps its value.
 * Returns false when the event is stale.
 */
export async function applyInstalled(tx: Transaction<Database>, input: InstalledInput): Promise<boolean> {
  const row = await tx
    .insertInto('installations')
    .values({
      workspace_id: input.workspaceId,
      addon_id: input.addonId,
      status: 'ACTIVE',
      api_url: input.apiUrl,
      backend_url: input.backendUrl,
      reports_url: input.reportsUrl,
      addon_user_id: input.addonUserId,
      installed_by: input.installedBy,
      auth_token_enc: input.authTokenEnc,
      auth_token_hash: input.authTokenHash,
      skipped_webhooks: JSON.stringify(input.skippedWebhooks ?? []),
      settings: '[]',
      last_seq: input.seq,
    })
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'addon_id'])
        .doUpdateSet({
          status: sql`CASE WHEN installations.status_seq > ${input.seq} AND installations.status <> 'DELETED' THEN installations.status ELSE 'ACTIVE' END`,
          api_url: input.apiUrl,
          backend_url: input.backendUrl,
          reports_url: input.reportsUrl,
          addon_user_id: input.addonUserId,
          installed_by: input.installedBy,
          auth_token_enc: input.authTokenEnc,
          auth_token_hash: input.authTokenHash,
          skipped_webhooks: JSON.stringify(input.skippedWebhooks ?? []),
          settings: sql`CASE WHEN installations.settings_seq > ${input.seq} THEN installations.settings ELSE '[]'::jsonb END`,
          last_seq: input.seq,
          installed_at: sql`now()`,
          updated_at: sql`now()`,
          deleted_at: null,
          purge_after: null,
        })
        .where('installations.last_seq', '<', input.seq),
    )
    .returning('workspace_id')
    .executeTakeFirst();
  if (!row) return false;
  await tx
    .deleteFrom('installation_webhooks')
    .where('workspace_id', '=', input.workspaceId)
    .where('addon_id', '=', input.addonId)
    .execute();
  if (input.webhooks.length > 0) {
    await tx
      .insertInto('installation_webhooks')
      .values(
        input.webhooks.map((w) => ({
          workspace_id: input.workspaceId,
          addon_id: input.addonId,
          event: w.event,
          path: w.path,
          token_enc: w.tokenEnc,
          token_hash: w.tokenHash,
        })),
      )
      .execute();
  }
  return true;
}

/**
 * Applies DELETED if newer: soft delete, erase every token at once, and set the purge date.
 * A DELETED for an installation never seen is recorded too, so a late INSTALLED (older
 * sequence) cannot bring it back. Returns false when stale.
 */
export async function applyDeleted(
  tx: Transaction<Database>,
  input: InstallationKey & { seq: number; purgeAfter: Date },
): Promise<boolean> {
  const row = await tx
    .insertInto('installations')
    .values({
      workspace_id: input.workspaceId,
      addon_id: input.addonId,
      status: 'DELETED',
      api_url: null,
      backend_url: null,
      reports_url: null,
      addon_user_id: null,
      installed_by: null,
      auth_token_enc: null,
      auth_token_hash: null,
      settings: '[]',
      last_seq: input.seq,
      deleted_at: sql<Date>`now()`,
      purge_after: input.purgeAfter,
    })
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'addon_id'])
        .doUpdateSet({
          status: 'DELETED',
          auth_token_enc: null,
          auth_token_hash: null,
          last_seq: input.seq,
          updated_at: sql`now()`,
          deleted_at: sql`now()`,
          purge_after: input.purgeAfter,
        })
        .where('installations.last_seq', '<', input.seq),
    )
    .returning('workspace_id')
    .executeTakeFirst();
  if (!row) return false;
  await tx
    .deleteFrom('installation_webhooks')
    .where('workspace_id', '=', input.workspaceId)
    .where('addon_id', '=', input.addonId)
    .execute();
  return true;
}

export type AspectResult = 'applied' | 'stale' | 'not_installed';

/**
 * STATUS_CHANGED: applied when newer than both the last status change and the last
 * INSTALLED/DELETED. On a missing or deleted installation whose last event is older, the
 * INSTALLED this event follows has not been applied yet: 'not_installed' (retry later).
 */
export async function applyStatusChanged(
  tx: Transaction<Database>,
  input: InstallationKey & { seq: number; status: 'ACTIVE' | 'INACTIVE' },
): Promise<AspectResult> {
  return applyAspect(tx, input, 'status_seq', { status: input.status });
}

export async function applySettingsUpdated(
  tx: Transaction<Database>,
  input: InstallationKey & { seq: number; settings: readonly unknown[] },
): Promise<AspectResult> {
  return applyAspect(tx, input, 'settings_seq', { settings: JSON.stringify(input.settings) });
}

async function applyAspect(
  tx: Transaction<Database>,
  input: InstallationKey & { seq: number },
  seqColumn: 'status_seq' | 'settings_seq',
  values: { status?: 'ACTIVE' | 'INACTIVE'; settings?: string },
): Promise<AspectResult> {
  const current = await tx
    .selectFrom('installations')
    .select(['status', 'last_seq', 'status_seq', 'settings_seq'])
    .where('workspace_id', '=', input.workspaceId)
    .where('addon_id', '=', input.addonId)
    .forUpdate()
    .executeTakeFirst();
  if (!current) return 'not_installed';
  if (input.seq <= current.last_seq || input.seq <= current[seqColumn]) return 'stale';
  if (current.status === 'DELETED') return 'not_installed';
  await tx
    .updateTable('installations')
    .set({ ...values, [seqColumn]: input.seq, updated_at: sql`now()` })
    .where('workspace_id', '=', input.workspaceId)
    .where('addon_id', '=', input.addonId)
    .execute();
  return 'applied';
}

/**
 * Stores settings read from Clockify after INSTALLED, only while nothing newer is stored: the
 * installation is still the one that INSTALLED (`last_seq`) made and no SETTINGS_UPDATED was
 * applied since the read began (`settings_seq` unchanged). The sequences are left as they are, so
 * a later SETTINGS_UPDATED applies as usual. Returns false when something newer won.
 */
export async function storeLoadedSettings(
  db: Db,
  input: InstallationKey & { lastSeq: number; settingsSeq: number; settings: readonly unknown[] },
): Promise<boolean> {
  const result = await db
    .updateTable('installations')
    .set({ settings: JSON.stringify(input.settings), updated_at: sql`now()` })
    .where('workspace_id', '=', input.workspaceId)
    .where('addon_id', '=', input.addonId)
    .where('last_seq', '=', input.lastSeq)
    .where('settings_seq', '=', input.settingsSeq)
    .where('status', '<>', 'DELETED')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * ACTIVE installations whose webhooks are due for a check with Clockify: never checked, or
 * checked before `before`. Oldest first, so a backlog (after an upgrade) drains over several runs.
 */
export async function installationsDueForWebhookCheck(db: Db, before: Date, limit: number): Promise<Installation[]> {
  return db
    .selectFrom('installations')
    .selectAll()
    .where('status', '=', 'ACTIVE')
    .where((eb) => eb.or([eb('webhooks_checked_at', 'is', null), eb('webhooks_checked_at', '<', before)]))
    .orderBy(sql`webhooks_checked_at NULLS FIRST`)
    .limit(limit)
    .execute();
}

/**
 * Records a check of an installation's webhooks. `checkedAt` may be set ahead or behind "now" by
 * the caller to spread the next checks of many installations over time.
 */
export async function recordWebhookHealth(
  db: Db,
  key: InstallationKey,
  health: WebhookHealth,
  checkedAt: Date,
): Promise<void> {
  await db
    .updateTable('installations')
    .set({ webhook_health: JSON.stringify(health), webhooks_checked_at: checkedAt })
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .execute();
}

/** ACTIVE installations with at least one webhook Clockify does not deliver. */
export async function countInstallationsWithUndeliveredWebhooks(db: Db): Promise<number> {
  const row = await db
    .selectFrom('installations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'ACTIVE')
    .where(sql<boolean>`jsonb_array_length(coalesce(webhook_health->'undelivered', '[]'::jsonb)) > 0`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function getWebhookToken(
  db: Db,
  key: InstallationKey & { event: string },
): Promise<InstallationWebhook | undefined> {
  return db
    .selectFrom('installation_webhooks')
    .selectAll()
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .where('event', '=', key.event)
    .executeTakeFirst();
}

/** Installations whose purge date passed while still deleted. */
export async function installationsDueForPurge(db: Db, now: Date, limit = 100): Promise<Installation[]> {
  return db
    .selectFrom('installations')
    .selectAll()
    .where('status', '=', 'DELETED')
    .where('purge_after', 'is not', null)
    .where('purge_after', '<=', now)
    .orderBy('purge_after')
    .limit(limit)
    .execute();
}

export interface PurgeCounts {
  entities: number;
  webhookEvents: number;
  bootstrapRuns: number;
  deadLetters: number;
  /** True when another installation of the workspace is live, so its mirror was kept. */
  workspaceShared: boolean;
}

/**
 * Erases what is kept about an uninstalled installation, but only if it is still deleted with a
 * purge date that passed (a reinstall cancels the purge). Rows that carry the add-on id (webhook
 * deliveries, bootstrap runs, dead letters, forwarding rules) go when they are this installation's. The mirror
 * (`workspace_entities`) has no add-on id: it goes only when no other installation of the same
 * workspace is live, so a reinstall under a new add-on id keeps its data when the old purge
 * comes. Returns undefined when not purged.
 */
export async function purgeInstallation(
  tx: Transaction<Database>,
  key: InstallationKey,
  now: Date,
): Promise<PurgeCounts | undefined> {
  const row = await tx
    .selectFrom('installations')
    .select(['status', 'purge_after'])
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .forUpdate()
    .executeTakeFirst();
  if (!row || row.status !== 'DELETED' || !row.purge_after || row.purge_after > now) return undefined;
  // Locked too, so an INSTALLED of another add-on id cannot commit between this check and the
  // deletes below (it would then find its mirror rows gone).
  const live = await tx
    .selectFrom('installations')
    .select('addon_id')
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '<>', key.addonId)
    .where('status', '<>', 'DELETED')
    .forUpdate()
    .execute();
  const workspaceShared = live.length > 0;
  const entities = workspaceShared
    ? { numDeletedRows: 0n }
    : await tx.deleteFrom('workspace_entities').where('workspace_id', '=', key.workspaceId).executeTakeFirst();
  // Deliveries without an add-on id (none are written today) belong to the workspace as a whole.
  const events = await tx
    .deleteFrom('webhook_events')
    .where('workspace_id', '=', key.workspaceId)
    .where((eb) =>
      workspaceShared
        ? eb('addon_id', '=', key.addonId)
        : eb.or([eb('addon_id', '=', key.addonId), eb('addon_id', 'is', null)]),
    )
    .executeTakeFirst();
  const runs = await tx
    .deleteFrom('bootstrap_runs')
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .executeTakeFirst();
  // Its forwarding rules, with their encrypted secrets and header values.
  await tx
    .deleteFrom('forwarding_rules')
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .execute();
  const letters = await tx
    .deleteFrom('dead_letters')
    .where('workspace_id', '=', key.workspaceId)
    .where((eb) => {
      const addonOf = sql<string | null>`payload->>'addonId'`;
      return workspaceShared
        ? eb(addonOf, '=', key.addonId)
        : eb.or([eb(addonOf, '=', key.addonId), eb(addonOf, 'is', null)]);
    })
    .executeTakeFirst();
  // The row itself stays as a bare marker (ids and sequences only) so a very late, older
  // INSTALLED cannot resurrect the installation; everything else about it is erased. Lifecycle
  // receipts (hashes only) stay for the same reason, until their own retention.
  await tx
    .updateTable('installations')
    .set({
      api_url: null,
      backend_url: null,
      reports_url: null,
      addon_user_id: null,
      installed_by: null,
      settings: '[]',
      purge_after: null,
      updated_at: sql`now()`,
    })
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .execute();
  return {
    entities: Number(entities.numDeletedRows),
    webhookEvents: Number(events.numDeletedRows),
    bootstrapRuns: Number(runs.numDeletedRows),
    deadLetters: Number(letters.numDeletedRows),
    workspaceShared,
  };
}

/** The token hashes an installation stores now: its installation token's and its webhook tokens'. */
export interface StoredTokenHashes {
  readonly installation: string | null;
  readonly webhooks: readonly string[];
}

export async function storedTokenHashes(db: Db, key: InstallationKey): Promise<StoredTokenHashes> {
  const [row, hooks] = await Promise.all([
    db
      .selectFrom('installations')
      .select('auth_token_hash')
      .where('workspace_id', '=', key.workspaceId)
      .where('addon_id', '=', key.addonId)
      .executeTakeFirst(),
    webhookTokenHashes(db, key),
  ]);
  return { installation: row?.auth_token_hash ?? null, webhooks: [...hooks.values()] };
}

export type LifecycleReceiptType = LifecycleReceipt['type'];

/**
 * Records that a lifecycle call was decided. Returns the receipt already there when the same call
 * (token, type, body) was decided before — a replay — and undefined when this one is new. A
 * concurrent copy waits on the primary key until the first commits, then sees it.
 */
export async function recordLifecycleReceipt(
  tx: Transaction<Database>,
  input: InstallationKey & { receipt: string; type: LifecycleReceiptType; seq: number; outcome: string },
): Promise<LifecycleReceipt | undefined> {
  const inserted = await tx
    .insertInto('lifecycle_receipts')
    .values({
      receipt: input.receipt,
      workspace_id: input.workspaceId,
      addon_id: input.addonId,
      type: input.type,
      seq: input.seq,
      outcome: input.outcome,
    })
    .onConflict((oc) => oc.column('receipt').doNothing())
    .returning('receipt')
    .executeTakeFirst();
  if (inserted) return undefined;
  return tx.selectFrom('lifecycle_receipts').selectAll().where('receipt', '=', input.receipt).executeTakeFirstOrThrow();
}

export async function setLifecycleReceiptOutcome(
  tx: Transaction<Database>,
  receipt: string,
  outcome: string,
): Promise<void> {
  await tx.updateTable('lifecycle_receipts').set({ outcome }).where('receipt', '=', receipt).execute();
}

/** Marks the follow-ups of an applied lifecycle call done (see lifecycle.apply in the worker). */
export async function markLifecycleFollowupsDone(db: Db, receipt: string): Promise<void> {
  await db
    .updateTable('lifecycle_receipts')
    .set({ followups_done_at: sql`now()` })
    .where('receipt', '=', receipt)
    .execute();
}

/** Retention of receipts: older ones are deleted (a replay older than that is judged on its own). */
export async function deleteLifecycleReceiptsBefore(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('lifecycle_receipts').where('decided_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** One installation as operators list it: no token, only whether there is one. */
export interface InstallationOverview {
  readonly workspaceId: string;
  readonly addonId: string;
  readonly status: InstallationStatus;
  readonly installedAt: Date;
  readonly updatedAt: Date;
  readonly deletedAt: Date | null;
  /** An installation token is stored (false once uninstalled). */
  readonly hasToken: boolean;
  /** Per-event webhook tokens stored from INSTALLED's `webhooks[]`. */
  readonly webhookTokens: number;
  /** The last lifecycle call decided for it (applied or stale). */
  readonly lastLifecycle: { readonly type: string; readonly outcome: string; readonly at: Date } | null;
  /** Its latest bootstrap run. */
  readonly bootstrap: {
    readonly id: string;
    readonly status: string;
    readonly createdAt: Date;
    readonly finishedAt: Date | null;
  } | null;
}

/**
 * Installations with what an operator looks at first, newest first, in one statement: the token
 * counts, the last lifecycle receipt and the latest bootstrap run come from lateral subqueries.
 */
export async function listInstallationOverviews(
  db: Db,
  opts: { status?: InstallationStatus; workspaceId?: string; limit?: number; offset?: number } = {},
): Promise<InstallationOverview[]> {
  let q = db
    .selectFrom('installations as i')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('installation_webhooks as w')
          .select((e) => e.fn.countAll<string>().as('tokens'))
          .whereRef('w.workspace_id', '=', 'i.workspace_id')
          .whereRef('w.addon_id', '=', 'i.addon_id')
          .as('w'),
      (join) => join.onTrue(),
    )
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('lifecycle_receipts as r')
          .select(['r.type', 'r.outcome', 'r.decided_at'])
          .whereRef('r.workspace_id', '=', 'i.workspace_id')
          .whereRef('r.addon_id', '=', 'i.addon_id')
          .orderBy('r.decided_at', 'desc')
          .limit(1)
          .as('r'),
      (join) => join.onTrue(),
    )
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('bootstrap_runs as b')
          .select(['b.id', 'b.status', 'b.created_at', 'b.finished_at'])
          .whereRef('b.workspace_id', '=', 'i.workspace_id')
          .whereRef('b.addon_id', '=', 'i.addon_id')
          .orderBy('b.created_at', 'desc')
          .limit(1)
          .as('b'),
      (join) => join.onTrue(),
    )
    .select([
      'i.workspace_id',
      'i.addon_id',
      'i.status',
      'i.installed_at',
      'i.updated_at',
      'i.deleted_at',
      (e) => e('i.auth_token_enc', 'is not', null).as('has_token'),
      'w.tokens',
      'r.type as lifecycle_type',
      'r.outcome as lifecycle_outcome',
      'r.decided_at as lifecycle_at',
      'b.id as run_id',
      'b.status as run_status',
      'b.created_at as run_created_at',
      'b.finished_at as run_finished_at',
    ]);
  if (opts.status) q = q.where('i.status', '=', opts.status);
  if (opts.workspaceId) q = q.where('i.workspace_id', '=', opts.workspaceId);
  const rows = await q
    .orderBy('i.installed_at', 'desc')
    .orderBy('i.workspace_id')
    .limit(Math.min(opts.limit ?? 100, 1000))
    .offset(opts.offset ?? 0)
    .execute();
  return rows.map((r) => ({
    workspaceId: r.workspace_id,
    addonId: r.addon_id,
    status: r.status,
    installedAt: r.installed_at,
    updatedAt: r.updated_at,
    deletedAt: r.deleted_at,
    hasToken: Boolean(r.has_token),
    webhookTokens: Number(r.tokens ?? 0),
    lastLifecycle:
      r.lifecycle_type && r.lifecycle_at
        ? { type: r.lifecycle_type, outcome: r.lifecycle_outcome ?? '', at: r.lifecycle_at }
        : null,
    bootstrap:
      r.run_id && r.run_status && r.run_created_at
        ? { id: r.run_id, status: r.run_status, createdAt: r.run_created_at, finishedAt: r.run_finished_at ?? null }
        : null,
  }));
}

/** An installation's webhooks (event and path; never the token), by event. */
export async function listInstallationWebhooks(
  db: Db,
  key: InstallationKey,
): Promise<{ event: string; path: string }[]> {
  return db
    .selectFrom('installation_webhooks')
    .select(['event', 'path'])
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .orderBy('event')
    .execute();
}

/** The lifecycle calls decided for an installation, newest first. */
export async function recentLifecycleReceipts(
  db: Db,
  key: InstallationKey,
  limit = 10,
): Promise<{ type: string; seq: number; outcome: string; decidedAt: Date }[]> {
  const rows = await db
    .selectFrom('lifecycle_receipts')
    .select(['type', 'seq', 'outcome', 'decided_at'])
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .orderBy('decided_at', 'desc')
    .limit(Math.min(limit, 100))
    .execute();
  return rows.map((r) => ({ type: r.type, seq: Number(r.seq), outcome: r.outcome, decidedAt: r.decided_at }));
}
