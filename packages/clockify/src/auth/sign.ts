import { SignJWT, type CryptoKey, type KeyObject } from 'jose';

/**
 * Signs tokens shaped like Clockify's add-on tokens. Used by the simulator ("Clockify in a box")
 * and by tests, with a local key pair: production code only ever verifies.
 *
 * Claims per kind follow the developer docs (REFERENCE.md §2.3): every token has
 * `iss=clockify`, `type=addon`, `sub=<addon key>`; installation and user tokens carry the
 * environment URLs, `workspaceId`, `user` and `addonId`; user tokens also `language`, `theme`,
 * `workspaceRole` and expire after 30 minutes; webhook tokens carry only `workspaceId` and
 * `addonId` and never expire; lifecycle token claims are undocumented, so callers choose.
 */

export type SignableTokenKind = 'installation' | 'user' | 'webhook' | 'lifecycle';

export const USER_TOKEN_LIFETIME_SECONDS = 30 * 60;

export interface TokenEnvironment {
  /** e.g. `https://api.clockify.me/api` (no `/v1`). */
  readonly backendUrl: string;
  readonly reportsUrl?: string;
  readonly locationsUrl?: string;
  readonly screenshotsUrl?: string;
}

export interface SignTokenInput {
  readonly kind: SignableTokenKind;
  readonly privateKey: CryptoKey | KeyObject;
  readonly addonKey: string;
  readonly workspaceId?: string;
  readonly addonId?: string;
  /** Owner (installation) or viewer (user) id. */
  readonly userId?: string;
  readonly environment?: TokenEnvironment;
  /** Extra or overriding claims (e.g. `workspaceRole`), applied last. */
  readonly claims?: Record<string, unknown>;
  readonly kid?: string;
  /** Seconds since the epoch; defaults to now. */
  readonly issuedAt?: number;
}

export async function signAddonToken(input: SignTokenInput): Promise<string> {
  const iat = input.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { type: 'addon' };
  if (input.workspaceId !== undefined) claims.workspaceId = input.workspaceId;
  if (input.addonId !== undefined) claims.addonId = input.addonId;
  if (input.kind === 'installation' || input.kind === 'user') {
    if (input.userId !== undefined) claims.user = input.userId;
    if (input.environment) {
      claims.backendUrl = input.environment.backendUrl;
      if (input.environment.reportsUrl) claims.reportsUrl = input.environment.reportsUrl;
      if (input.environment.locationsUrl) claims.locationsUrl = input.environment.locationsUrl;
      if (input.environment.screenshotsUrl) claims.screenshotsUrl = input.environment.screenshotsUrl;
    }
  }
  if (input.kind === 'user') {
    claims.language = 'EN';
    claims.theme = 'DEFAULT';
    claims.workspaceRole = 'OWNER';
  }
  Object.assign(claims, input.claims);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(input.kid ? { kid: input.kid } : {}) })
    .setIssuer('clockify')
    .setSubject(input.addonKey)
    .setIssuedAt(iat);
  if (input.kind === 'user') jwt.setExpirationTime(iat + USER_TOKEN_LIFETIME_SECONDS);
  return jwt.sign(input.privateKey);
}
