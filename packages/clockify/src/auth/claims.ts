import { TokenVerificationError } from './errors.js';

export type TokenKind = 'webhook' | 'lifecycle' | 'user' | 'installation';

export const TOKEN_KINDS: readonly TokenKind[] = ['webhook', 'lifecycle', 'user', 'installation'];

/** Claims of Clockify add-on tokens (REFERENCE.md §2.3); unknown claims are kept as they come. */
export interface ClockifyClaims {
  iss: string;
  sub: string;
  type: string;
  workspaceId?: string;
  addonId?: string;
  user?: string;
  backendUrl?: string;
  reportsUrl?: string;
  locationsUrl?: string;
  screenshotsUrl?: string;
  language?: string;
  theme?: string;
  workspaceRole?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
  [k: string]: unknown;
}

/** The installation a request is expected to come from; compared only with claims present. */
export interface ExpectedInstallation {
  workspaceId?: string | undefined;
  addonId?: string | undefined;
}

export const CLOCKIFY_ISSUER = 'clockify';
export const ADDON_TOKEN_TYPE = 'addon';

const STRING_CLAIMS = ['workspaceId', 'addonId'] as const;
const NUMERIC_DATE_CLAIMS = ['exp', 'nbf'] as const;

/**
 * What a token says about itself, independent of how it is used: issuer, subject, type and the
 * shape of the claims later checks rely on. Checked once per token; the result is cacheable.
 */
export function checkIdentityClaims(payload: Record<string, unknown>, addonKey: string): ClockifyClaims {
  requireEqual(payload, 'iss', CLOCKIFY_ISSUER, 'wrong_issuer', 'token was not issued by Clockify');
  requireEqual(payload, 'sub', addonKey, 'wrong_subject', 'token was issued for another add-on key');
  requireEqual(payload, 'type', ADDON_TOKEN_TYPE, 'wrong_type', 'token is not an add-on token');
  for (const name of NUMERIC_DATE_CLAIMS) {
    const value = payload[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new TokenVerificationError('malformed', `token claim "${name}" is not a number of seconds`);
    }
  }
  for (const name of STRING_CLAIMS) {
    const value = payload[name];
    if (value !== undefined && typeof value !== 'string') {
      throw new TokenVerificationError('malformed', `token claim "${name}" is not a string`);
    }
  }
  return payload as ClockifyClaims;
}

/** `exp` and `nbf` when present, with tolerance for clock skew; an old `iat` is never a reason. */
export function checkTimeClaims(claims: ClockifyClaims, nowMs: number, toleranceSeconds: number): void {
  const now = nowMs / 1000;
  if (claims.exp !== undefined && now - toleranceSeconds >= claims.exp) {
    throw new TokenVerificationError('expired', 'token has expired');
  }
  if (claims.nbf !== undefined && now + toleranceSeconds < claims.nbf) {
    throw new TokenVerificationError('not_yet_valid', 'token is not valid yet (nbf is in the future)');
  }
}

/**
 * Claims only a user token (the iframe `auth_token`) carries (REFERENCE.md §2.3). Clockify signs
 * every kind with the same key and the same `iss`/`type`/`sub`, so these claims are what tells a
 * user's 30-minute token apart from the tokens that may change the installation.
 */
const USER_TOKEN_CLAIMS = ['workspaceRole', 'language', 'theme'] as const;

/** Claims every installation token carries and webhook tokens do not. */
const INSTALLATION_TOKEN_CLAIMS = ['backendUrl', 'user'] as const;

const present = (claims: ClockifyClaims, name: string): boolean => claims[name] !== undefined && claims[name] !== null;

/** True when the claims say "user token": any of the user-only claims is present. */
function hasUserTokenClaims(claims: ClockifyClaims): boolean {
  return USER_TOKEN_CLAIMS.some((name) => present(claims, name));
}

/**
 * The claim profile of each kind: a valid token of the wrong kind is refused with `wrong_kind`.
 * - user: carries a user-only claim and `exp` (a user token must expire);
 * - installation: carries `backendUrl` and `user`, and no user-only claim;
 * - webhook and lifecycle: no user-only claim. Lifecycle claims are undocumented, so nothing new
 *   is required of them; what tells a lifecycle token from a webhook or installation token of the
 *   same installation is the stored token hashes, checked where they are known (see SECURITY.md).
 */
function checkKindProfile(claims: ClockifyClaims, kind: TokenKind): void {
  const userClaims = hasUserTokenClaims(claims);
  if (kind === 'user') {
    if (!userClaims) throw new TokenVerificationError('wrong_kind', 'token is not a user token');
    if (claims.exp === undefined) {
      throw new TokenVerificationError('missing_claim', 'user token has no "exp" claim; user tokens must expire');
    }
    return;
  }
  if (userClaims) throw new TokenVerificationError('wrong_kind', `a user token is not accepted as a ${kind} token`);
  if (kind === 'installation' && !INSTALLATION_TOKEN_CLAIMS.every((name) => present(claims, name))) {
    throw new TokenVerificationError('wrong_kind', 'token is not an installation token');
  }
}

/** Checks that depend on where the token was presented: its kind and the expected installation. */
export function checkUsageClaims(
  claims: ClockifyClaims,
  kind: TokenKind,
  expect: ExpectedInstallation | undefined,
): void {
  checkKindProfile(claims, kind);
  if (kind === 'webhook' || kind === 'installation') {
    for (const name of STRING_CLAIMS) {
      if (claims[name] === undefined || claims[name] === '') {
        throw new TokenVerificationError('missing_claim', `${kind} token has no "${name}" claim`);
      }
    }
  }
  if (
    expect?.workspaceId !== undefined &&
    claims.workspaceId !== undefined &&
    claims.workspaceId !== expect.workspaceId
  ) {
    throw new TokenVerificationError('workspace_mismatch', 'token belongs to another workspace');
  }
  if (expect?.addonId !== undefined && claims.addonId !== undefined && claims.addonId !== expect.addonId) {
    throw new TokenVerificationError('addon_mismatch', 'token belongs to another add-on installation');
  }
}

function requireEqual(
  payload: Record<string, unknown>,
  name: 'iss' | 'sub' | 'type',
  expected: string,
  reason: 'wrong_issuer' | 'wrong_subject' | 'wrong_type',
  message: string,
): void {
  const value = payload[name];
  if (value === undefined || value === null || value === '') {
    throw new TokenVerificationError('missing_claim', `token has no "${name}" claim`);
  }
  if (value !== expected) throw new TokenVerificationError(reason, message);
}
