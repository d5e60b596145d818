import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../tables/index.js';

type Db = Kysely<Database> | Transaction<Database>;

/** One stored token ciphertext and the row it belongs to (the place its encryption binds). */
export interface StoredTokenCiphertext {
  readonly table: 'installations' | 'installation_webhooks';
  readonly workspaceId: string;
  readonly addonId: string;
  /** The webhook's event (installation_webhooks only). */
  readonly event: string | null;
  readonly ciphertext: string;
}

/** Where a page ended; the next page starts after it. */
export type TokenCursor = Pick<StoredTokenCiphertext, 'workspaceId' | 'addonId' | 'event'>;

/**
 * One page of a table's stored token ciphertexts, in key order after `after` (keyset paging: a
 * row changed or added meanwhile never makes the walk skip or repeat one).
 */
export async function pageTokenCiphertexts(
  db: Db,
  table: StoredTokenCiphertext['table'],
  opts: { after?: TokenCursor; limit: number },
): Promise<StoredTokenCiphertext[]> {
  const a = opts.after;
  if (table === 'installations') {
    let q = db
      .selectFrom('installations')
      .select(['workspace_id', 'addon_id', 'auth_token_enc'])
      .where('auth_token_enc', 'is not', null);
    if (a) q = q.where(sql<boolean>`(workspace_id, addon_id) > (${a.workspaceId}, ${a.addonId})`);
    const rows = await q.orderBy('workspace_id').orderBy('addon_id').limit(opts.limit).execute();
    return rows.map((r) => ({
      table,
      workspaceId: r.workspace_id,
      addonId: r.addon_id,
      event: null,
      ciphertext: r.auth_token_enc!,
    }));
  }
  let q = db.selectFrom('installation_webhooks').select(['workspace_id', 'addon_id', 'event', 'token_enc']);
  if (a)
    q = q.where(sql<boolean>`(workspace_id, addon_id, event) > (${a.workspaceId}, ${a.addonId}, ${a.event ?? ''})`);
  const rows = await q.orderBy('workspace_id').orderBy('addon_id').orderBy('event').limit(opts.limit).execute();
  return rows.map((r) => ({
    table,
    workspaceId: r.workspace_id,
    addonId: r.addon_id,
    event: r.event,
    ciphertext: r.token_enc,
  }));
}

/**
 * Replaces a stored ciphertext, only while the row still holds `stored.ciphertext` (compare and
 * set): a reinstall or uninstall that changed the row meanwhile wins. False when it did.
 */
export async function replaceTokenCiphertext(db: Db, stored: StoredTokenCiphertext, next: string): Promise<boolean> {
  if (stored.table === 'installations') {
    const r = await db
      .updateTable('installations')
      .set({ auth_token_enc: next })
      .where('workspace_id', '=', stored.workspaceId)
      .where('addon_id', '=', stored.addonId)
      .where('auth_token_enc', '=', stored.ciphertext)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  const r = await db
    .updateTable('installation_webhooks')
    .set({ token_enc: next })
    .where('workspace_id', '=', stored.workspaceId)
    .where('addon_id', '=', stored.addonId)
    .where('event', '=', stored.event ?? '')
    .where('token_enc', '=', stored.ciphertext)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
