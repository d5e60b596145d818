import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../tables/index.js';

type Db = Kysely<Database> | Transaction<Database>;

/** One stored token ciphertext and the row it belongs to (the place its encryption binds). */
export interface StoredTokenCiphertext {
  readonly table: 'installations' | 'installation_webhooks' | 'forwarding_rules';
  readonly workspaceId: string;
  readonly addonId: string;
  /**
   * The webhook's event (installation_webhooks); for forwarding_rules `<rule id> <column>`, the
   * column being `secret_enc`, `previous_secret_enc` or `headers_enc`.
   */
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
  if (table === 'forwarding_rules') {
    // Paged by rule id; each rule gives up to three ciphertexts. The cursor's event starts with the id.
    let q = db
      .selectFrom('forwarding_rules')
      .select(['id', 'workspace_id', 'addon_id', 'secret_enc', 'previous_secret_enc', 'headers_enc']);
    const afterId = a?.event?.split(' ')[0];
    if (afterId) q = q.where(sql<boolean>`id > ${afterId}::uuid`);
    const rows = await q.orderBy('id').limit(opts.limit).execute();
    return rows.flatMap((r) =>
      (
        [
          ['secret_enc', r.secret_enc],
          ['previous_secret_enc', r.previous_secret_enc],
          ['headers_enc', r.headers_enc],
        ] as const
      ).flatMap(([column, ciphertext]) =>
        ciphertext
          ? [{ table, workspaceId: r.workspace_id, addonId: r.addon_id, event: `${r.id} ${column}`, ciphertext }]
          : [],
      ),
    );
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
  if (stored.table === 'forwarding_rules') {
    const [id, column] = (stored.event ?? '').split(' ') as [
      string,
      'secret_enc' | 'previous_secret_enc' | 'headers_enc',
    ];
    const r = await db
      .updateTable('forwarding_rules')
      .set({ [column]: next })
      .where('id', '=', id)
      .where(column, '=', stored.ciphertext)
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
