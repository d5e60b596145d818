import { randomUUID } from 'node:crypto';
import { checkRule, newSigningSecret, type DestinationPolicy, type RuleInput, type RuleProblem } from '@cap/forwarding';
import {
  deleteForwardingRule,
  getForwardingRule,
  insertForwardingRule,
  listForwardingRules,
  rotateForwardingSecret,
  updateForwardingRule,
  type Database,
  type ForwardingRule,
  type Kysely,
} from '@cap/db';
import { TOKEN_COLUMNS, type Keyring } from '@cap/secrets';

/**
 * Forwarding rules as operators (admin API) and workspace admins (the forwarding page) manage
 * them: checked before they are saved (a bad JSONata expression is refused with its error), the
 * signing secret shown once at creation and at rotation, never afterwards, and stored encrypted
 * like tokens, as are the extra header values.
 */

export interface ForwardingDeps {
  readonly db: Kysely<Database>;
  readonly keyring: Keyring;
  readonly policy: DestinationPolicy;
  /** The events the add-on subscribes to: the only ones a rule may take. */
  readonly events: readonly string[];
}

export interface InstallationRef {
  readonly workspaceId: string;
  readonly addonId: string;
}

/** A rule as shown: never a secret or a header value. */
export interface RuleView {
  readonly id: string;
  readonly name: string;
  readonly events: readonly string[];
  readonly filter: string | null;
  readonly transform: string | null;
  readonly url: string;
  readonly headerNames: readonly string[];
  readonly enabled: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly secretRotatedAt: Date | null;
  /** Until when the secret before the last rotation still signs deliveries too. */
  readonly previousSecretValidUntil: Date | null;
}

export class ForwardingRuleError extends Error {
  override name = 'ForwardingRuleError';
  constructor(
    message: string,
    readonly code: 'invalid_rule' | 'not_found' | 'conflict',
    readonly problems: readonly RuleProblem[] = [],
  ) {
    super(message);
  }
}

/** How long the secret before a rotation keeps signing (both signatures are sent meanwhile). */
export const DEFAULT_SECRET_OVERLAP_HOURS = 24;

export function ruleView(row: ForwardingRule): RuleView {
  return {
    id: row.id,
    name: row.name,
    events: row.events,
    filter: row.filter,
    transform: row.transform,
    url: row.destination_url,
    headerNames: row.header_names,
    enabled: row.enabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    secretRotatedAt: row.secret_rotated_at,
    previousSecretValidUntil:
      row.previous_secret_until && row.previous_secret_until > new Date() ? row.previous_secret_until : null,
  };
}

function checked(deps: ForwardingDeps, input: unknown): RuleInput {
  const { problems, rule } = checkRule(input, { events: deps.events, policy: deps.policy });
  if (!rule) {
    throw new ForwardingRuleError(
      `the rule is refused: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
      'invalid_rule',
      problems,
    );
  }
  return rule;
}

function row(deps: ForwardingDeps, ref: InstallationRef, id: string, rule: RuleInput, keepHeaders?: ForwardingRule) {
  const headers = rule.headers;
  return {
    name: rule.name,
    events: rule.events,
    filter: rule.filter ?? null,
    transform: rule.transform ?? null,
    destinationUrl: rule.url,
    // Values are never shown back, so an update without `headers` keeps the stored ones.
    headerNames: headers ? Object.keys(headers) : (keepHeaders?.header_names ?? []),
    headersEnc: headers
      ? deps.keyring.encrypt(JSON.stringify(headers), { ...ref, column: TOKEN_COLUMNS.forwardingHeaders(id) })
      : (keepHeaders?.headers_enc ?? null),
    enabled: rule.enabled !== false,
  };
}

/** Creates a rule; the answer carries its signing secret, shown this once. */
export async function createForwardingRule(
  deps: ForwardingDeps,
  ref: InstallationRef,
  input: unknown,
): Promise<{ rule: RuleView; secret: string }> {
  const rule = checked(deps, input);
  const id = randomUUID();
  const secret = newSigningSecret();
  const secretEnc = deps.keyring.encrypt(secret, { ...ref, column: TOKEN_COLUMNS.forwardingSecret(id) });
  const saved = await insertForwardingRule(deps.db, ref, id, row(deps, ref, id, rule), secretEnc);
  if (!saved) throw new ForwardingRuleError(`a rule named "${rule.name}" exists already`, 'conflict');
  return { rule: ruleView(saved), secret };
}

/** Replaces a rule's fields; `headers` left out keeps the stored ones. The secret is unchanged. */
export async function updateForwardingRuleFields(
  deps: ForwardingDeps,
  ref: InstallationRef,
  id: string,
  input: unknown,
): Promise<RuleView> {
  const existing = await getForwardingRule(deps.db, ref, id);
  if (!existing) throw new ForwardingRuleError('no such forwarding rule', 'not_found');
  const rule = checked(deps, input);
  try {
    const saved = await updateForwardingRule(deps.db, ref, id, row(deps, ref, id, rule, existing));
    if (!saved) throw new ForwardingRuleError('no such forwarding rule', 'not_found');
    return ruleView(saved);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new ForwardingRuleError(`a rule named "${rule.name}" exists already`, 'conflict');
    }
    throw err;
  }
}

/**
 * A new signing secret, shown this once. The one it replaces keeps signing for `overlapHours`
 * (deliveries carry both signatures meanwhile), so receivers can switch without losing any. Only
 * the replaced secret is kept: a second rotation within the overlap ends the first one's.
 */
export async function rotateForwardingRuleSecret(
  deps: ForwardingDeps,
  ref: InstallationRef,
  id: string,
  overlapHours = DEFAULT_SECRET_OVERLAP_HOURS,
): Promise<{ rule: RuleView; secret: string }> {
  const existing = await getForwardingRule(deps.db, ref, id);
  if (!existing) throw new ForwardingRuleError('no such forwarding rule', 'not_found');
  const secret = newSigningSecret();
  const context = { ...ref, column: TOKEN_COLUMNS.forwardingSecret(id) };
  const saved = await rotateForwardingSecret(deps.db, ref, id, {
    current: deps.keyring.encrypt(secret, context),
    previous: existing.secret_enc,
    previousUntil: new Date(Date.now() + overlapHours * 3_600_000),
  });
  if (!saved) throw new ForwardingRuleError('the rule changed meanwhile (another rotation?); try again', 'conflict');
  return { rule: ruleView(saved), secret };
}

export async function removeForwardingRule(deps: ForwardingDeps, ref: InstallationRef, id: string): Promise<void> {
  if (!(await deleteForwardingRule(deps.db, ref, id)))
    throw new ForwardingRuleError('no such forwarding rule', 'not_found');
}

export async function forwardingRules(deps: Pick<ForwardingDeps, 'db'>, ref: InstallationRef): Promise<RuleView[]> {
  return (await listForwardingRules(deps.db, ref)).map(ruleView);
}

/**
 * The secrets that sign a rule's deliveries now: the current one, and the previous one while its
 * overlap lasts. For the delivery worker only; never shown.
 */
export function signingSecrets(
  keyring: Keyring,
  ref: InstallationRef,
  rule: ForwardingRule,
  now = new Date(),
): string[] {
  const context = { ...ref, column: TOKEN_COLUMNS.forwardingSecret(rule.id) };
  const secrets = [keyring.decrypt(rule.secret_enc, context)];
  if (rule.previous_secret_enc && rule.previous_secret_until && rule.previous_secret_until > now) {
    secrets.push(keyring.decrypt(rule.previous_secret_enc, context));
  }
  return secrets;
}

/** A rule's extra headers, decrypted (for the delivery worker only). */
export function ruleHeaders(keyring: Keyring, ref: InstallationRef, rule: ForwardingRule): Record<string, string> {
  if (!rule.headers_enc) return {};
  return JSON.parse(
    keyring.decrypt(rule.headers_enc, { ...ref, column: TOKEN_COLUMNS.forwardingHeaders(rule.id) }),
  ) as Record<string, string>;
}
