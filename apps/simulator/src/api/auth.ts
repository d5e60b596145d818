import type { KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload } from 'jose';

/** Claims of a token that may call the API (installation or user token). */
export interface ApiTokenClaims extends JWTPayload {
  readonly workspaceId: string;
  readonly addonId?: string;
  readonly user?: string;
  readonly backendUrl?: string;
  readonly workspaceRole?: string;
}

export type AuthResult =
  | { readonly ok: true; readonly claims: ApiTokenClaims }
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

const CACHE_LIMIT = 2_000;

/**
 * Checks `X-Addon-Token` the way Clockify's API would have to: an RS256 JWT signed by the
 * simulator's key, `iss=clockify`, `type=addon`, an installation or user token (webhook and
 * lifecycle tokens cannot call the API), not revoked by an uninstall, and for the workspace in
 * the path. Signature checks are cached per token (bounded); revocation is checked every time.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, ApiTokenClaims>();

  constructor(
    private readonly publicKey: KeyObject,
    private readonly isRevoked: (token: string) => boolean,
  ) {}

  async authenticate(token: string | undefined, workspaceId: string | undefined): Promise<AuthResult> {
    if (!token) return { ok: false, status: 401, message: 'Full authentication is required to access this resource' };
    if (token.length > 16_384) return { ok: false, status: 401, message: 'Invalid token' };
    let claims = this.cache.get(token);
    if (!claims) {
      const verified = await this.verify(token);
      if (!verified.ok) return verified;
      claims = verified.claims;
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(token, claims);
    }
    if (claims.exp !== undefined && claims.exp * 1000 <= Date.now()) {
      this.cache.delete(token);
      return { ok: false, status: 401, message: 'Token expired' };
    }
    if (this.isRevoked(token))
      return { ok: false, status: 401, message: 'Token is no longer valid (the add-on was uninstalled)' };
    if (workspaceId !== undefined && claims.workspaceId !== workspaceId) {
      return { ok: false, status: 403, message: `Access to workspace ${workspaceId} is denied for this token` };
    }
    return { ok: true, claims };
  }

  private async verify(token: string): Promise<AuthResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, { algorithms: ['RS256'], issuer: 'clockify' }));
    } catch (err) {
      const message = err instanceof errors.JWTExpired ? 'Token expired' : 'Invalid token';
      return { ok: false, status: 401, message };
    }
    if (payload.type !== 'addon') return { ok: false, status: 401, message: 'Invalid token type' };
    if (typeof payload.workspaceId !== 'string' || payload.workspaceId.length === 0) {
      return { ok: false, status: 401, message: 'Token has no workspace' };
    }
    // Webhook and lifecycle tokens carry no environment URLs and no user: they cannot call the API.
    if (typeof payload.backendUrl !== 'string' && typeof payload.user !== 'string') {
      return { ok: false, status: 401, message: 'This token cannot be used to call the API' };
    }
    return { ok: true, claims: payload as ApiTokenClaims };
  }
}
