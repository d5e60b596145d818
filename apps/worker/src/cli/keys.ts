import {
  pageTokenCiphertexts,
  replaceTokenCiphertext,
  type Database,
  type Kysely,
  type StoredTokenCiphertext,
  type TokenCursor,
} from '@cap/db';
import { Keyring, TOKEN_COLUMNS, type TokenContext } from '@cap/secrets';

export interface RotationReport {
  rotated: number;
  /** Already v2 under the current key. */
  current: number;
  /** Changed by a reinstall or uninstall while being rotated: that newer value stays. */
  skipped: number;
  failed: { table: string; workspaceId: string; addonId: string; event: string | null; reason: string }[];
  /** Key ids that ciphertexts name but TOKEN_ENCRYPTION_KEY / _PREVIOUS_KEYS do not hold. */
  missingKeys: string[];
}

const BATCH = 500;

function placeOf(row: StoredTokenCiphertext): TokenContext {
  const at = { workspaceId: row.workspaceId, addonId: row.addonId };
  if (row.table === 'installations') return { ...at, column: TOKEN_COLUMNS.installationToken };
  if (row.table === 'installation_webhooks') return { ...at, column: TOKEN_COLUMNS.webhookToken(row.event!) };
  // A forwarding rule: both signing secrets are bound to the rule's secret column, headers to theirs.
  const [ruleId, column] = row.event!.split(' ') as [string, string];
  return {
    ...at,
    column: column === 'headers_enc' ? TOKEN_COLUMNS.forwardingHeaders(ruleId) : TOKEN_COLUMNS.forwardingSecret(ruleId),
  };
}

/**
 * Re-encrypts every stored token (and forwarding secret and header set) that is not v2 under the current key: with that key, bound to
 * its row. Safe while the system serves (each row is replaced by compare-and-set) and resumable
 * (a second run finds the rotated rows current and skips them cheaply): no state is kept.
 */
export async function rotateKeys(
  db: Kysely<Database>,
  keyring: Keyring,
  opts: { dryRun: boolean; onProgress?: (report: RotationReport, table: string) => void },
): Promise<RotationReport> {
  const report: RotationReport = { rotated: 0, current: 0, skipped: 0, failed: [], missingKeys: [] };
  const missing = new Set<string>();
  for (const table of ['installations', 'installation_webhooks', 'forwarding_rules'] as const) {
    let after: TokenCursor | undefined;
    for (;;) {
      const page = await pageTokenCiphertexts(db, table, { ...(after ? { after } : {}), limit: BATCH });
      if (page.length === 0) break;
      for (const row of page) {
        if (!keyring.needsRotation(row.ciphertext)) {
          report.current++;
          continue;
        }
        const keyId = Keyring.keyIdOf(row.ciphertext);
        const fail = (reason: string) =>
          report.failed.push({
            table,
            workspaceId: row.workspaceId,
            addonId: row.addonId,
            event: row.event,
            reason,
          });
        if (keyId === undefined || !keyring.hasKey(keyId)) {
          missing.add(keyId ?? '(none)');
          fail(`encrypted with key ${keyId ?? '(unknown)'}, which is not configured`);
          continue;
        }
        const place = placeOf(row);
        let plaintext: string;
        try {
          plaintext = keyring.decrypt(row.ciphertext, place);
        } catch (err) {
          fail((err as Error).message);
          continue;
        }
        if (opts.dryRun) {
          report.rotated++;
          continue;
        }
        const replaced = await replaceTokenCiphertext(db, row, keyring.encrypt(plaintext, place));
        if (replaced) report.rotated++;
        else report.skipped++;
      }
      const last = page.at(-1)!;
      after = { workspaceId: last.workspaceId, addonId: last.addonId, event: last.event };
      opts.onProgress?.(report, table);
    }
  }
  report.missingKeys = [...missing].sort();
  return report;
}
