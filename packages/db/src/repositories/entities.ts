import { sql, type Kysely, type Transaction } from 'kysely';
import { PREPARED } from '../prepared.js';
import type { Database, WorkspaceEntity } from '../tables/index.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface EntityKey {
  readonly workspaceId: string;
  readonly entityType: string;
  readonly entityId: string;
}

const ENTITY_KEY = ['workspace_id', 'entity_type', 'entity_id'] as const;

/** What a webhook says happened to an entity, as the mirror applies it. */
export type EntityChange = 'created' | 'updated' | 'merged' | 'deleted';

/** One webhook's write to the mirror. */
export interface EntityWrite extends EntityKey {
  /**
   * - `created` (NEW_*): written only if no copy exists; an existing copy (or tombstone) came
   *   from a later delivery that overtook this one.
   * - `updated`: written unless the entity was deleted: once deleted, a late NEW/UPDATED delivery
   *   (Clockify does not order webhooks) must not bring it back. The data replaces the copy.
   * - `merged`: as `updated`, but the data is a partial entity (USER_UPDATED carries only `id`,
   *   `email` and `name`): its top-level fields replace the copy's, the fields it lacks are kept.
   * - `deleted`: marks the entity deleted, creating the tombstone if it was never seen.
   */
  readonly change: EntityChange;
  /** The entity as the webhook body carries it (a tombstone keeps the last live data). */
  readonly data: Record<string, unknown>;
  /** The webhook event, kept as `last_event`. */
  readonly event: string;
  /**
   * The delivery's place among the entity's accepted deliveries (the ingress's sequence), when
   * the write is about the entity the delivery names: an update or merge older than the one the
   * row holds is refused, so the last change received wins whatever order jobs finish in.
   */
  readonly seq?: number;
}

/** Writes applied by one statement at most: bounds the statement's parameter. */
export const MAX_ENTITY_WRITES_PER_STATEMENT = 500;

/**
 * The three kinds of change in one statement (one round trip), their rows passed as one JSON
 * array. The rows are distinct entities (applyEntityWrites makes sure), so the order between the
 * inserts does not matter. Returns the created and updated rows that were written; a
 * tombstone is always written.
 */
function applyRun(db: Db, rows: string) {
  return sql<EntityRowKey>`${PREPARED}
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${rows}::jsonb)
        AS i(workspace_id text, entity_type text, entity_id text, change text, event text, data jsonb, seq bigint)
    ), created AS (
      INSERT INTO workspace_entities (workspace_id, entity_type, entity_id, data, deleted, source, last_event, webhook_seq)
      SELECT workspace_id, entity_type, entity_id, data, false, 'webhook', event, seq FROM input WHERE change = 'created'
      ON CONFLICT (workspace_id, entity_type, entity_id) DO NOTHING
      RETURNING workspace_id, entity_type, entity_id
    ), updated AS (
      INSERT INTO workspace_entities (workspace_id, entity_type, entity_id, data, deleted, source, last_event, webhook_seq)
      SELECT workspace_id, entity_type, entity_id, data, false, 'webhook', event, seq FROM input WHERE change = 'updated'
      ON CONFLICT (workspace_id, entity_type, entity_id) DO UPDATE
        SET data = excluded.data, source = 'webhook', last_event = excluded.last_event, updated_at = now(),
            webhook_seq = GREATEST(workspace_entities.webhook_seq, excluded.webhook_seq)
        WHERE workspace_entities.deleted = false
          AND (workspace_entities.webhook_seq IS NULL OR excluded.webhook_seq IS NULL
               OR workspace_entities.webhook_seq < excluded.webhook_seq)
      RETURNING workspace_id, entity_type, entity_id
    ), merged AS (
      INSERT INTO workspace_entities (workspace_id, entity_type, entity_id, data, deleted, source, last_event, webhook_seq)
      SELECT workspace_id, entity_type, entity_id, data, false, 'webhook', event, seq FROM input WHERE change = 'merged'
      ON CONFLICT (workspace_id, entity_type, entity_id) DO UPDATE
        SET data = workspace_entities.data || excluded.data, source = 'webhook', last_event = excluded.last_event,
            updated_at = now(), webhook_seq = GREATEST(workspace_entities.webhook_seq, excluded.webhook_seq)
        WHERE workspace_entities.deleted = false
          AND (workspace_entities.webhook_seq IS NULL OR excluded.webhook_seq IS NULL
               OR workspace_entities.webhook_seq < excluded.webhook_seq)
      RETURNING workspace_id, entity_type, entity_id
    ), deleted AS (
      INSERT INTO workspace_entities (workspace_id, entity_type, entity_id, data, deleted, source, last_event, webhook_seq)
      SELECT workspace_id, entity_type, entity_id, data, true, 'webhook', event, seq FROM input WHERE change = 'deleted'
      ON CONFLICT (workspace_id, entity_type, entity_id) DO UPDATE
        SET deleted = true, source = 'webhook', last_event = excluded.last_event, updated_at = now(),
            webhook_seq = GREATEST(workspace_entities.webhook_seq, excluded.webhook_seq)
    )
    SELECT workspace_id, entity_type, entity_id FROM created
    UNION ALL SELECT workspace_id, entity_type, entity_id FROM updated
    UNION ALL SELECT workspace_id, entity_type, entity_id FROM merged`.execute(db);
}

interface EntityRowKey {
  workspace_id: string;
  entity_type: string;
  entity_id: string;
}

const keyOf = (k: EntityKey): string => JSON.stringify([k.workspaceId, k.entityType, k.entityId]);

/**
 * Applies webhook writes to the mirror in their order, with as few statements as it can: one for
 * a run of writes to distinct entities (and at most MAX_ENTITY_WRITES_PER_STATEMENT), a new one
 * where an entity comes again, since one statement cannot change a row twice. Returns the writes
 * that were refused (a creation that found a copy, an update that found a tombstone).
 */
export async function applyEntityWrites(db: Db, writes: readonly EntityWrite[]): Promise<EntityWrite[]> {
  const refused: EntityWrite[] = [];
  // The current run: each write by its entity's key.
  let run = new Map<string, EntityWrite>();
  const flush = async () => {
    if (run.size === 0) return;
    // In key order (any fixed order does): concurrent transactions then lock shared rows alike.
    const rows = [...run]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, w]) => ({
        workspace_id: w.workspaceId,
        entity_type: w.entityType,
        entity_id: w.entityId,
        change: w.change,
        event: w.event,
        data: w.data,
        seq: w.seq ?? null,
      }));
    const { rows: written } = await applyRun(db, JSON.stringify(rows));
    const writtenKeys = new Set(
      written.map((r) => keyOf({ workspaceId: r.workspace_id, entityType: r.entity_type, entityId: r.entity_id })),
    );
    for (const [key, w] of run) if (w.change !== 'deleted' && !writtenKeys.has(key)) refused.push(w);
    run = new Map();
  };
  for (const write of writes) {
    const key = keyOf(write);
    if (run.has(key) || run.size >= MAX_ENTITY_WRITES_PER_STATEMENT) await flush();
    run.set(key, write);
  }
  await flush();
  return refused;
}

/** Writes an entity seen in a NEW/UPDATED webhook unless it was deleted (see EntityWrite). */
export async function upsertEntityFromWebhook(
  db: Db,
  key: EntityKey,
  data: Record<string, unknown>,
  event: string,
): Promise<boolean> {
  const refused = await applyEntityWrites(db, [{ ...key, change: 'updated', data, event }]);
  return refused.length === 0;
}

/** Marks an entity deleted (creating the tombstone if the entity was never seen). */
export async function tombstoneEntity(
  db: Db,
  key: EntityKey,
  data: Record<string, unknown>,
  event: string,
): Promise<void> {
  await applyEntityWrites(db, [{ ...key, change: 'deleted', data, event }]);
}

export interface BootstrapEntity {
  readonly entityId: string;
  readonly data: Record<string, unknown>;
}

/**
 * Upserts one page of a bootstrap. Every row is marked seen by the run (so the end-of-resource
 * removal keeps it); its data is replaced only if no webhook wrote the row after the page was
 * fetched, so a bootstrap never overwrites a newer change (including a tombstone).
 */
export async function upsertEntitiesFromBootstrap(
  db: Db,
  input: {
    workspaceId: string;
    entityType: string;
    runId: string;
    fetchedAt: Date;
    entities: readonly BootstrapEntity[];
  },
): Promise<void> {
  if (input.entities.length === 0) return;
  // One statement per page; duplicate ids inside one page would make ON CONFLICT fail.
  const unique = new Map(input.entities.map((e) => [e.entityId, e]));
  await db
    .insertInto('workspace_entities')
    .values(
      [...unique.values()].map((e) => ({
        workspace_id: input.workspaceId,
        entity_type: input.entityType,
        entity_id: e.entityId,
        data: JSON.stringify(e.data),
        deleted: false,
        source: 'bootstrap' as const,
        last_event: null,
        seen_run_id: input.runId,
      })),
    )
    .onConflict((oc) =>
      oc.columns([...ENTITY_KEY]).doUpdateSet((eb) => ({
        seen_run_id: eb.ref('excluded.seen_run_id'),
        data: sql`CASE WHEN workspace_entities.updated_at < ${input.fetchedAt} THEN excluded.data ELSE workspace_entities.data END`,
        deleted: sql`CASE WHEN workspace_entities.updated_at < ${input.fetchedAt} THEN false ELSE workspace_entities.deleted END`,
        source: sql`CASE WHEN workspace_entities.updated_at < ${input.fetchedAt} THEN 'bootstrap' ELSE workspace_entities.source END`,
        updated_at: sql`CASE WHEN workspace_entities.updated_at < ${input.fetchedAt} THEN now() ELSE workspace_entities.updated_at END`,
      })),
    )
    .execute();
}

/**
 * After a resource finished: removes rows of that resource the run did not see and that were
 * not written since the resource started (a webhook's write meanwhile is kept). Tombstones
 * older than the resource start go too: the full listing proved the entity gone.
 */
export async function removeEntitiesNotSeen(
  db: Db,
  input: {
    workspaceId: string;
    entityType: string;
    runId: string;
    resourceStartedAt: Date;
    /**
     * For listings that cover a time window (time entries): only rows whose
     * `data.timeInterval.start` (ISO-8601 UTC) lies inside it can be proved gone.
     */
    timeWindow?: { start: string; end: string };
  },
): Promise<number> {
  let q = db
    .deleteFrom('workspace_entities')
    .where('workspace_id', '=', input.workspaceId)
    .where('entity_type', '=', input.entityType)
    .where((eb) => eb.or([eb('seen_run_id', 'is', null), eb('seen_run_id', '!=', input.runId)]))
    .where('updated_at', '<', input.resourceStartedAt);
  if (input.timeWindow) {
    q = q
      .where(sql<string>`data->'timeInterval'->>'start'`, '>=', input.timeWindow.start)
      .where(sql<string>`data->'timeInterval'->>'start'`, '<=', input.timeWindow.end);
  }
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function getEntity(db: Db, key: EntityKey): Promise<WorkspaceEntity | undefined> {
  return db
    .selectFrom('workspace_entities')
    .selectAll()
    .where('workspace_id', '=', key.workspaceId)
    .where('entity_type', '=', key.entityType)
    .where('entity_id', '=', key.entityId)
    .executeTakeFirst();
}

/** Live (non-deleted) entities of a workspace, optionally of one type, ordered for comparison. */
export async function listEntities(
  db: Db,
  workspaceId: string,
  entityType?: string,
  opts: { includeDeleted?: boolean } = {},
): Promise<WorkspaceEntity[]> {
  let q = db.selectFrom('workspace_entities').selectAll().where('workspace_id', '=', workspaceId);
  if (entityType !== undefined) q = q.where('entity_type', '=', entityType);
  if (!opts.includeDeleted) q = q.where('deleted', '=', false);
  return q.orderBy('entity_type').orderBy('entity_id').execute();
}

/** One page of a workspace's mirror, ordered by type and id (for the admin API). */
export async function pageEntities(
  db: Db,
  workspaceId: string,
  opts: { entityType?: string; includeDeleted?: boolean; limit: number; offset: number },
): Promise<WorkspaceEntity[]> {
  let q = db.selectFrom('workspace_entities').selectAll().where('workspace_id', '=', workspaceId);
  if (opts.entityType !== undefined) q = q.where('entity_type', '=', opts.entityType);
  if (!opts.includeDeleted) q = q.where('deleted', '=', false);
  return q.orderBy('entity_type').orderBy('entity_id').limit(opts.limit).offset(opts.offset).execute();
}

export async function countEntities(db: Db, workspaceId: string): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('workspace_entities')
    .select(['entity_type', (eb) => eb.fn.countAll<number>().as('n')])
    .where('workspace_id', '=', workspaceId)
    .where('deleted', '=', false)
    .groupBy('entity_type')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.entity_type, Number(r.n)]));
}
