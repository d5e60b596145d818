import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, ForwardingRule } from '../tables/index.js';
import type { InstallationKey as InstallationRef } from './installations.js';

type Db = Kysely<Database> | Transaction<Database>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A rule's stored fields; secrets and header values already encrypted by the caller. */
export interface ForwardingRuleRow {
  readonly name: string;
  readonly events: readonly string[];
  readonly filter: string | null;
  readonly transform: string | null;
  readonly destinationUrl: string;
  readonly headerNames: readonly string[];
  readonly headersEnc: string | null;
  readonly enabled: boolean;
}

function columns(row: ForwardingRuleRow) {
  return {
    name: row.name,
    events: JSON.stringify(row.events),
    filter: row.filter,
    transform: row.transform,
    destination_url: row.destinationUrl,
    header_names: JSON.stringify(row.headerNames),
    headers_enc: row.headersEnc,
    enabled: row.enabled,
  };
}

/**
 * Inserts a rule whose secret is encrypted under its own id (the id is part of the ciphertext's
 * context), so the id is chosen by the caller. Undefined when the name is taken.
 */
export async function insertForwardingRule(
  db: Db,
  ref: InstallationRef,
  id: string,
  row: ForwardingRuleRow,
  secretEnc: string,
): Promise<ForwardingRule | undefined> {
  return db
    .insertInto('forwarding_rules')
    .values({ id, workspace_id: ref.workspaceId, addon_id: ref.addonId, ...columns(row), secret_enc: secretEnc })
    .onConflict((oc) => oc.columns(['workspace_id', 'addon_id', 'name']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Replaces a rule's fields (not its secrets); undefined when there is no such rule. */
export async function updateForwardingRule(
  db: Db,
  ref: InstallationRef,
  id: string,
  row: ForwardingRuleRow,
): Promise<ForwardingRule | undefined> {
  return db
    .updateTable('forwarding_rules')
    .set({ ...columns(row), updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('workspace_id', '=', ref.workspaceId)
    .where('addon_id', '=', ref.addonId)
    .returningAll()
    .executeTakeFirst();
}

/** A new signing secret; the current one stays valid until `previousUntil` (the overlap). */
export async function rotateForwardingSecret(
  db: Db,
  ref: InstallationRef,
  id: string,
  secrets: { current: string; previous: string; previousUntil: Date },
): Promise<ForwardingRule | undefined> {
  // Compare and set: of two rotations at once, the second finds the secret changed and fails,
  // so no secret is handed out that never signs.
  return db
    .updateTable('forwarding_rules')
    .set({
      secret_enc: secrets.current,
      previous_secret_enc: secrets.previous,
      previous_secret_until: secrets.previousUntil,
      secret_rotated_at: sql<Date>`now()`,
      updated_at: sql<Date>`now()`,
    })
    .where('secret_enc', '=', secrets.previous)
    .where('id', '=', id)
    .where('workspace_id', '=', ref.workspaceId)
    .where('addon_id', '=', ref.addonId)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteForwardingRule(db: Db, ref: InstallationRef, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const res = await db
    .deleteFrom('forwarding_rules')
    .where('id', '=', id)
    .where('workspace_id', '=', ref.workspaceId)
    .where('addon_id', '=', ref.addonId)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function getForwardingRule(db: Db, ref: InstallationRef, id: string): Promise<ForwardingRule | undefined> {
  if (!UUID.test(id)) return undefined;
  return db
    .selectFrom('forwarding_rules')
    .selectAll()
    .where('id', '=', id)
    .where('workspace_id', '=', ref.workspaceId)
    .where('addon_id', '=', ref.addonId)
    .executeTakeFirst();
}

export async function listForwardingRules(db: Db, ref: InstallationRef): Promise<ForwardingRule[]> {
  return db
    .selectFrom('forwarding_rules')
    .selectAll()
    .where('workspace_id', '=', ref.workspaceId)
    .where('addon_id', '=', ref.addonId)
    .orderBy('created_at')
    .orderBy('name')
    .execute();
}

/** The enabled rules of an installation that take `event`. */
export async function forwardingRulesFor(db: Db, ref: InstallationRef, event: string): Promise<ForwardingRule[]> {
  return db
    .selectFrom('forwarding_rules')
    .selectAll()
    .where('workspace_id', '=', ref.workspaceId)
    .where('addon_id', '=', ref.addonId)
    .where('enabled', '=', true)
    .where(sql<boolean>`events @> ${JSON.stringify([event])}::jsonb`)
    .orderBy('created_at')
    .execute();
}
