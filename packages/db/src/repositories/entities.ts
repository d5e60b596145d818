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

/** The row a webhook writes for an entity (live, or a tombstone). */
function webhookRow(key: EntityKey, data: Record<string, unknown>, event: string, deleted: boolean) {
  return {
    workspace_id: key.workspaceId,
    entity_type: key.entityType,
    entity_id: key.entityId,
    data: JSON.stringify(data),
    deleted,
    source: 'webhook' as const,
    last_event: event,
    seen_run_id: null,
  };
}

/**
 * Writes an entity seen in a webhook body. A tombstone wins: once an entity was deleted, a late
 * NEW/UPDATED delivery (Clockify does not order webhooks) must not bring it back. Returns false
 * when the write was refused for that reason.
 */
export async function upsertEntityFromWebhook(
  db: Db,
  key: EntityKey,
  data: Record<string, unknown>,
  event: string,
): Promise<boolean> {
  const result = await db
    .insertInto('workspace_entities')
    .values(webhookRow(key, data, event, false))
    .onConflict((oc) =>
      oc
        .columns([...ENTITY_KEY])
        .doUpdateSet({
          data: (eb) => eb.ref('excluded.data'),
          source: 'webhook',
          last_event: event,
          updated_at: sql`now()`,
        })
        .where('workspace_entities.deleted', '=', false),
    )
    .modifyEnd(PREPARED)
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * Writes an entity from a creation event (NEW_*) only if no copy exists: an existing copy (or a
 * tombstone) came from a later delivery that overtook this one. Returns whether it was written.
 */
export async function insertEntityIfAbsent(
  db: Db,
  key: EntityKey,
  data: Record<string, unknown>,
  event: string,
): Promise<boolean> {
  const result = await db
    .insertInto('workspace_entities')
    .values(webhookRow(key, data, event, false))
    .onConflict((oc) => oc.columns([...ENTITY_KEY]).doNothing())
    .modifyEnd(PREPARED)
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Marks an entity deleted (creating the tombstone if the entity was never seen). */
export async function tombstoneEntity(
  db: Db,
  key: EntityKey,
  data: Record<string, unknown>,
  event: string,
): Promise<void> {
  await db
    .insertInto('workspace_entities')
    .values(webhookRow(key, data, event, true))
    .onConflict((oc) =>
      oc.columns([...ENTITY_KEY]).doUpdateSet({
        deleted: true,
        source: 'webhook',
        last_event: event,
        updated_at: sql`now()`,
      }),
    )
    .modifyEnd(PREPARED)
    .execute();
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

export async function deleteWorkspaceEntities(db: Db, workspaceId: string): Promise<number> {
  const result = await db.deleteFrom('workspace_entities').where('workspace_id', '=', workspaceId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
