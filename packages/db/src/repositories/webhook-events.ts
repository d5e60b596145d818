import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { partitionName } from '../partitions.js';
import { PREPARED } from '../prepared.js';
import type { Database, Installation, WebhookEvent, WebhookEventStatus, WebhookTokenCheck } from '../tables/index.js';
import type { InstallationKey, InstallationVersion } from './installations.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Identifies one delivery: its content hash and the dedupe window it fell in. */
export interface DeliveryRef {
  readonly deliveryKey: string;
  readonly windowStart: Date;
  readonly workspaceId: string;
  readonly addonId: string | null;
  readonly event: string;
  readonly receivedAt: Date;
  readonly entityId: string | null;
  readonly jobId: string | null;
}

/** What a delivery needs to know about its installation. */
export interface DeliveryInstallation {
  readonly installation: Installation;
  /** SHA-256 of the stored per-event webhook token, by event (empty unless ACTIVE). */
  readonly tokenHashes: ReadonlyMap<string, string>;
}

/**
 * The installation a delivery is for and, when it is ACTIVE, its webhook token hashes: one
 * statement, read when the worker's installation cache misses.
 */
export async function installationForDelivery(db: Db, key: InstallationKey): Promise<DeliveryInstallation | undefined> {
  const row = await db
    .selectFrom('installations as i')
    .selectAll('i')
    .select(
      sql<Record<string, string> | null>`(
        SELECT jsonb_object_agg(w.event, w.token_hash) FROM installation_webhooks w
        WHERE w.workspace_id = i.workspace_id AND w.addon_id = i.addon_id AND i.status = 'ACTIVE'
      )`.as('token_hashes'),
    )
    .where('i.workspace_id', '=', key.workspaceId)
    .where('i.addon_id', '=', key.addonId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { token_hashes, ...installation } = row;
  return { installation, tokenHashes: new Map(Object.entries(token_hashes ?? {})) };
}

const FINAL: readonly WebhookEventStatus[] = ['done', 'skipped', 'ignored', 'orphaned'];
const MAX_ERROR = 2000;

function rowValues(ref: DeliveryRef, status: WebhookEventStatus) {
  return {
    delivery_key: ref.deliveryKey,
    window_start: ref.windowStart,
    workspace_id: ref.workspaceId,
    addon_id: ref.addonId,
    event: ref.event,
    status,
    token_check: null,
    entity_id: ref.entityId,
    job_id: ref.jobId,
    attempts: 1,
    error: null,
    received_at: ref.receivedAt,
  };
}

export type ClaimResult =
  | { readonly claimed: true; readonly attempts: number }
  | { readonly claimed: false; readonly status: WebhookEventStatus };

/**
 * Claims the delivery inside the handler's transaction: a new row, or an existing one that is
 * not finished (received/failed: a retry or replay runs the handler again). A finished delivery
 * is never claimed twice. Concurrent claims of one delivery serialise on the row.
 */
export async function claimDelivery(tx: Transaction<Database>, ref: DeliveryRef): Promise<ClaimResult> {
  const inserted = await tx
    .insertInto('webhook_events')
    .values(rowValues(ref, 'received'))
    .onConflict((oc) => oc.columns(['delivery_key', 'window_start']).doNothing())
    .returning('attempts')
    .executeTakeFirst();
  if (inserted) return { claimed: true, attempts: inserted.attempts };
  const existing = await tx
    .selectFrom('webhook_events')
    .select(['status', 'attempts'])
    .where('delivery_key', '=', ref.deliveryKey)
    .where('window_start', '=', ref.windowStart)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (FINAL.includes(existing.status)) return { claimed: false, status: existing.status };
  const updated = await tx
    .updateTable('webhook_events')
    .set({ status: 'received', attempts: sql`attempts + 1`, job_id: ref.jobId, error: null })
    .where('delivery_key', '=', ref.deliveryKey)
    .where('window_start', '=', ref.windowStart)
    .returning('attempts')
    .executeTakeFirstOrThrow();
  return { claimed: true, attempts: updated.attempts };
}

/**
 * True when the same content was processed in the previous window less than a window ago: the
 * windows are fixed buckets, so a duplicate straddling a bucket boundary is caught here.
 */
export async function processedInPreviousWindow(db: Db, ref: DeliveryRef, windowSeconds: number): Promise<boolean> {
  const windowMs = windowSeconds * 1000;
  const row = await db
    .selectFrom('webhook_events')
    .select('status')
    .where('delivery_key', '=', ref.deliveryKey)
    .where('window_start', '=', new Date(ref.windowStart.getTime() - windowMs))
    .where('status', '=', 'done')
    .where('received_at', '>', new Date(ref.receivedAt.getTime() - windowMs))
    .executeTakeFirst();
  return row !== undefined;
}

export async function completeDelivery(
  tx: Transaction<Database>,
  ref: DeliveryRef,
  tokenCheck: WebhookTokenCheck,
): Promise<void> {
  await tx
    .updateTable('webhook_events')
    .set({ status: 'done', token_check: tokenCheck, processed_at: sql`now()`, error: null })
    .where('delivery_key', '=', ref.deliveryKey)
    .where('window_start', '=', ref.windowStart)
    .execute();
}

/** Records a handler failure (outside the rolled-back transaction); never overwrites `done`. */
export async function recordDeliveryFailure(db: Db, ref: DeliveryRef, error: string): Promise<void> {
  const message = error.slice(0, MAX_ERROR);
  await db
    .insertInto('webhook_events')
    .values({ ...rowValues(ref, 'failed'), error: message })
    .onConflict((oc) =>
      oc
        .columns(['delivery_key', 'window_start'])
        .doUpdateSet({ status: 'failed', error: message, job_id: ref.jobId })
        .where('webhook_events.status', 'in', ['received', 'failed']),
    )
    .execute();
}

/** Records why a delivery had no effect (skipped, ignored, orphaned); never overwrites `done`. */
export async function recordDeliveryOutcome(
  db: Db,
  ref: DeliveryRef,
  status: 'skipped' | 'ignored' | 'orphaned',
  opts: { tokenCheck?: WebhookTokenCheck; reason?: string } = {},
): Promise<void> {
  const reason = opts.reason?.slice(0, MAX_ERROR) ?? null;
  await db
    .insertInto('webhook_events')
    .values({
      ...rowValues(ref, status),
      token_check: opts.tokenCheck ?? null,
      error: reason,
      processed_at: sql<Date>`now()`,
    })
    .onConflict((oc) =>
      oc
        .columns(['delivery_key', 'window_start'])
        .doUpdateSet({ status, token_check: opts.tokenCheck ?? null, error: reason, processed_at: sql`now()` })
        .where('webhook_events.status', 'in', ['received', 'failed']),
    )
    .execute();
}

export async function getDelivery(db: Db, deliveryKey: string, windowStart: Date): Promise<WebhookEvent | undefined> {
  return db
    .selectFrom('webhook_events')
    .selectAll()
    .where('delivery_key', '=', deliveryKey)
    .where('window_start', '=', windowStart)
    .executeTakeFirst();
}

export async function recentWebhookEvents(db: Db, workspaceId: string, limit = 20): Promise<WebhookEvent[]> {
  return db
    .selectFrom('webhook_events')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('received_at', 'desc')
    .limit(Math.min(limit, 500))
    .execute();
}

/** Deliveries of a workspace received since a time, oldest first (for the admin API). */
export async function pageWebhookEvents(
  db: Db,
  workspaceId: string,
  opts: { since?: Date; limit: number; offset: number },
): Promise<WebhookEvent[]> {
  let q = db.selectFrom('webhook_events').selectAll().where('workspace_id', '=', workspaceId);
  if (opts.since) q = q.where('received_at', '>=', opts.since);
  return q.orderBy('received_at').orderBy('delivery_key').limit(opts.limit).offset(opts.offset).execute();
}

export async function countWebhookEventsByStatus(db: Db, workspaceId?: string): Promise<Record<string, number>> {
  let q = db.selectFrom('webhook_events').select(['status', (eb) => eb.fn.countAll<number>().as('n')]);
  if (workspaceId !== undefined) q = q.where('workspace_id', '=', workspaceId);
  const rows = await q.groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * - `claimed`: a new row, already `done`; it commits with the handler's effects or not at all.
 * - `stale`: the installation is no longer ACTIVE at this version; nothing was written.
 * - `duplicate`: the same content was done in the previous window less than a window ago.
 * - `exists`: a row for this delivery and window exists (a retry or replay); claim it the slow way.
 */
export type FirstClaim = 'claimed' | 'stale' | 'duplicate' | 'exists';

/** One side of the claim rule: parameters (one delivery) or columns of an `unnest` (several). */
interface ClaimTerms {
  readonly deliveryKey: RawBuilder<unknown>;
  readonly workspaceId: RawBuilder<unknown>;
  readonly addonId: RawBuilder<unknown>;
  readonly lastSeq: RawBuilder<unknown>;
  readonly statusSeq: RawBuilder<unknown>;
  readonly settingsSeq: RawBuilder<unknown>;
  readonly previousWindow: RawBuilder<unknown>;
  readonly notBefore: RawBuilder<unknown>;
}

/**
 * The claim rule, written once for the single-delivery and the grouped statement: the columns
 * a claimed row fills, the installation still ACTIVE at the version the worker looked at, and the
 * same content done in the previous window (a duplicate).
 */
const CLAIMED_COLUMNS = sql`(delivery_key, window_start, workspace_id, addon_id, event, status,
      token_check, entity_id, job_id, attempts, error, received_at, processed_at)`;

function installationCurrent(t: ClaimTerms): RawBuilder<unknown> {
  return sql`installations.workspace_id = ${t.workspaceId} AND installations.addon_id = ${t.addonId}
    AND installations.status = 'ACTIVE' AND installations.last_seq = ${t.lastSeq}
    AND installations.status_seq = ${t.statusSeq} AND installations.settings_seq = ${t.settingsSeq}`;
}

/** The grouped statement's terms: the columns of its `unnest` (alias `d`). */
const GROUP_TERMS: ClaimTerms = {
  deliveryKey: sql.ref('d.delivery_key'),
  workspaceId: sql.ref('d.workspace_id'),
  addonId: sql.ref('d.addon_id'),
  lastSeq: sql.ref('d.last_seq'),
  statusSeq: sql.ref('d.status_seq'),
  settingsSeq: sql.ref('d.settings_seq'),
  previousWindow: sql.ref('d.previous_window'),
  notBefore: sql.ref('d.not_before'),
};

function doneInPreviousWindow(t: ClaimTerms): RawBuilder<unknown> {
  return sql`EXISTS (SELECT 1 FROM webhook_events prev
    WHERE prev.delivery_key = ${t.deliveryKey} AND prev.window_start = ${t.previousWindow}
      AND prev.status = 'done' AND prev.received_at > ${t.notBefore})`;
}

/**
 * The common case of a delivery in one statement, inside the handler's transaction: the
 * installation is still ACTIVE at the version the worker looked at, the previous window did not
 * finish the same content, and no row exists yet for this window. Every round trip to Postgres
 * costs more than the statement itself on a busy worker, so the three checks and the insert
 * share one; a plain INSERT … SELECT plans much cheaper than one with CTEs on the partitioned
 * table. Only when nothing was inserted does a second query tell why. The row is written as
 * `done` at once: the transaction commits it together with the handler's effects, or rolls
 * both back, so no one can ever see it unfinished.
 */
export async function claimFirstDelivery(tx: Transaction<Database>, input: FirstClaimInput): Promise<FirstClaim> {
  const { ref, version } = input;
  const windowMs = input.windowSeconds * 1000;
  const previousWindow = new Date(ref.windowStart.getTime() - windowMs);
  const notBefore = new Date(ref.receivedAt.getTime() - windowMs);
  const terms: ClaimTerms = {
    deliveryKey: sql.val(ref.deliveryKey),
    workspaceId: sql.val(ref.workspaceId),
    addonId: sql.val(input.addonId),
    lastSeq: sql.val(version.lastSeq),
    statusSeq: sql.val(version.statusSeq),
    settingsSeq: sql.val(version.settingsSeq),
    previousWindow: sql.val(previousWindow),
    notBefore: sql.val(notBefore),
  };
  const current = installationCurrent(terms);
  const doneBefore = doneInPreviousWindow(terms);
  const inserted = await sql<{ one: number }>`${PREPARED}
    INSERT INTO ${sql.table(partitionName(ref.windowStart))} ${CLAIMED_COLUMNS}
    SELECT ${ref.deliveryKey}, ${ref.windowStart}, ${ref.workspaceId}, ${input.addonId}, ${ref.event}, 'done',
      ${input.tokenCheck}, ${ref.entityId}, ${ref.jobId}, 1, NULL, ${ref.receivedAt}, now()
    FROM installations WHERE ${current} AND NOT ${doneBefore}
    ON CONFLICT (delivery_key, window_start) DO NOTHING
    RETURNING 1 AS one`.execute(tx);
  if (inserted.rows.length > 0) return 'claimed';
  const { rows } = await sql<{ current: boolean; duplicate: boolean }>`
    SELECT EXISTS (SELECT 1 FROM installations WHERE ${current}) AS current, ${doneBefore} AS duplicate`.execute(tx);
  if (!rows[0]?.current) return 'stale';
  return rows[0].duplicate ? 'duplicate' : 'exists';
}

/** What `claimFirstDelivery` needs about one delivery. */
export interface FirstClaimInput {
  readonly ref: DeliveryRef;
  readonly addonId: string;
  readonly version: InstallationVersion;
  readonly tokenCheck: WebhookTokenCheck;
  readonly windowSeconds: number;
}

/** The (deliveryKey, windowStart) pair that identifies a delivery's row, as one string. */
export function deliveryRowKey(ref: Pick<DeliveryRef, 'deliveryKey' | 'windowStart'>): string {
  return `${ref.deliveryKey}@${ref.windowStart.getTime()}`;
}

/**
 * `claimFirstDelivery` for several deliveries at once, in one statement per day partition: the
 * same three checks per delivery (installation still ACTIVE at the version looked at, the same
 * content not done in the previous window, no row yet in this window), each row inserted
 * `done` to commit together with its handler's effects. Returns the row keys
 * (`deliveryRowKey`) it inserted; a delivery left out must be claimed alone, where
 * `claimFirstDelivery` says why. The deliveries must have distinct row keys.
 *
 * `claimFirstDelivery` keeps a single-row statement of its own, measured cheaper for one delivery
 * (`bench:worker` with WEBHOOK_COMMIT_GROUP_MAX=1); both are built from the same rule
 * (CLAIMED_COLUMNS, installationCurrent, doneInPreviousWindow), so they cannot drift apart.
 */
export async function claimFirstDeliveries(
  tx: Transaction<Database>,
  inputs: readonly FirstClaimInput[],
): Promise<Set<string>> {
  const byPartition = new Map<string, FirstClaimInput[]>();
  for (const input of inputs) {
    const name = partitionName(input.ref.windowStart);
    const list = byPartition.get(name);
    if (list) list.push(input);
    else byPartition.set(name, [input]);
  }
  const claimed = new Set<string>();
  for (const [partition, list] of byPartition) {
    const column = <T>(pick: (input: FirstClaimInput) => T): T[] => list.map(pick);
    const windowMs = (i: FirstClaimInput) => i.windowSeconds * 1000;
    const { rows } = await sql<{ delivery_key: string; window_start: Date }>`${PREPARED}
      INSERT INTO ${sql.table(partition)} ${CLAIMED_COLUMNS}
      SELECT d.delivery_key, d.window_start, d.workspace_id, d.addon_id, d.event, 'done',
        d.token_check, d.entity_id, d.job_id, 1, NULL, d.received_at, now()
      FROM unnest(${column((i) => i.ref.deliveryKey)}::text[], ${column((i) => i.ref.windowStart)}::timestamptz[],
          ${column((i) => i.ref.workspaceId)}::text[], ${column((i) => i.addonId)}::text[],
          ${column((i) => i.ref.event)}::text[], ${column((i) => i.tokenCheck)}::text[],
          ${column((i) => i.ref.entityId)}::text[], ${column((i) => i.ref.jobId)}::text[],
          ${column((i) => i.ref.receivedAt)}::timestamptz[], ${column((i) => i.version.lastSeq)}::bigint[],
          ${column((i) => i.version.statusSeq)}::bigint[], ${column((i) => i.version.settingsSeq)}::bigint[],
          ${column((i) => new Date(i.ref.windowStart.getTime() - windowMs(i)))}::timestamptz[],
          ${column((i) => new Date(i.ref.receivedAt.getTime() - windowMs(i)))}::timestamptz[])
        AS d(delivery_key, window_start, workspace_id, addon_id, event, token_check, entity_id, job_id,
          received_at, last_seq, status_seq, settings_seq, previous_window, not_before)
      JOIN installations ON ${installationCurrent(GROUP_TERMS)}
      WHERE NOT ${doneInPreviousWindow(GROUP_TERMS)}
      ON CONFLICT (delivery_key, window_start) DO NOTHING
      RETURNING delivery_key, window_start`.execute(tx);
    for (const row of rows) {
      claimed.add(deliveryRowKey({ deliveryKey: row.delivery_key, windowStart: new Date(row.window_start) }));
    }
  }
  return claimed;
}
