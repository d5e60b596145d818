import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../tables/index.js';

/** The time window of a windowed listing (`yyyy-MM-ddThh:mm:ssZ`, as the API wants). */
export interface CursorTimeWindow {
  readonly start: string;
  readonly end: string;
}

/**
 * The shared cursor of a per-parent listing, in `bootstrap_resources.cursor`. Parents are handed
 * out in id order (ids, not positions: a parent deleted meanwhile shifts no one's place), and
 * each job records the parent and page it is on, so a restarted job resumes where it was.
 */
export interface ParentCursor {
  /** The time window of windowed listings, fixed for the whole run. */
  window: CursorTimeWindow;
  /** The last parent id handed to a job. */
  claimedThrough?: string;
  /** By job id: the parent it copies and the next page to fetch. */
  active: Record<string, { parentId: string; page: number }>;
  /** The job that closes the resource once no parent is left and no job copies one. */
  finishing?: string;
}

export type ParentClaim =
  | { readonly kind: 'parent'; readonly parentId: string; readonly page: number; readonly window: CursorTimeWindow }
  | { readonly kind: 'finish'; readonly window: CursorTimeWindow }
  /** Nothing for this job: no parent is left and another job still copies one (or closes the resource). */
  | { readonly kind: 'none' };

function isParentCursor(value: unknown): value is ParentCursor {
  const c = value as Partial<ParentCursor> | null;
  return !!c && typeof c.active === 'object' && c.active !== null && typeof c.window === 'object';
}

/**
 * What `jobId` does next, decided under the resource row's lock: resume its parent, take the
 * next one, close the resource (it is the last job and nothing is left), or stop.
 */
export async function claimParent(
  db: Kysely<Database>,
  input: {
    readonly runId: string;
    readonly resource: string;
    readonly jobId: string;
    readonly workspaceId: string;
    readonly parentEntityType: string;
    /** The window when the cursor has none yet (the first job of the listing). */
    readonly window: () => CursorTimeWindow;
  },
): Promise<ParentClaim> {
  return db.transaction().execute(async (tx) => {
    const row = await tx
      .selectFrom('bootstrap_resources')
      .select(['status', 'cursor'])
      .where('run_id', '=', input.runId)
      .where('resource', '=', input.resource)
      .forUpdate()
      .executeTakeFirst();
    if (!row || row.status === 'COMPLETED' || row.status === 'FAILED') return { kind: 'none' };
    const saved: unknown = row.cursor;
    // A cursor of another shape (none yet, or from a single-job walk) starts the handing out over;
    // pages copied already are upserted again, never duplicated.
    const cursor: ParentCursor = isParentCursor(saved)
      ? saved
      : { window: (saved as Partial<ParentCursor> | null)?.window ?? input.window(), active: {} };
    const save = () =>
      tx
        .updateTable('bootstrap_resources')
        .set({ cursor: JSON.stringify(cursor), updated_at: sql`now()` })
        .where('run_id', '=', input.runId)
        .where('resource', '=', input.resource)
        .execute();

    if (cursor.finishing === input.jobId) return { kind: 'finish', window: cursor.window };
    const mine = cursor.active[input.jobId];
    if (mine) return { kind: 'parent', parentId: mine.parentId, page: mine.page, window: cursor.window };

    let next = tx
      .selectFrom('workspace_entities')
      .select('entity_id')
      .where('workspace_id', '=', input.workspaceId)
      .where('entity_type', '=', input.parentEntityType)
      .where('seen_run_id', '=', input.runId)
      .where('deleted', '=', false);
    if (cursor.claimedThrough !== undefined) next = next.where('entity_id', '>', cursor.claimedThrough);
    const parent = await next.orderBy('entity_id').limit(1).executeTakeFirst();
    if (parent) {
      cursor.claimedThrough = parent.entity_id;
      cursor.active[input.jobId] = { parentId: parent.entity_id, page: 1 };
      await save();
      return { kind: 'parent', parentId: parent.entity_id, page: 1, window: cursor.window };
    }
    if (Object.keys(cursor.active).length === 0 && cursor.finishing === undefined) {
      cursor.finishing = input.jobId;
      await save();
      return { kind: 'finish', window: cursor.window };
    }
    if (!isParentCursor(saved)) await save();
    return { kind: 'none' };
  });
}

/**
 * Records a committed page of `jobId`'s parent, in the page's transaction: the next page to
 * fetch, or (`next` undefined) that the parent is done. Touches only this job's entry, so jobs
 * of one listing never overwrite each other's place.
 */
export async function saveParentPage(
  tx: Transaction<Database>,
  input: {
    readonly runId: string;
    readonly resource: string;
    readonly jobId: string;
    readonly next: { readonly parentId: string; readonly page: number } | undefined;
    readonly items: number;
  },
): Promise<void> {
  const path = sql`ARRAY['active', ${input.jobId}]::text[]`;
  await tx
    .updateTable('bootstrap_resources')
    .set({
      cursor: input.next
        ? sql<string>`jsonb_set(cursor, ${path}, ${JSON.stringify(input.next)}::jsonb)`
        : sql<string>`cursor #- ${path}`,
      items: sql`items + ${input.items}`,
      requests: sql`requests + 1`,
      pages: sql`pages + 1`,
      updated_at: sql`now()`,
    })
    .where('run_id', '=', input.runId)
    .where('resource', '=', input.resource)
    .execute();
}
