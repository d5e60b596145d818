import { randomBytes } from 'node:crypto';
import { signAddonToken, type TokenEnvironment } from '@cap/clockify';
import type { SimulatorKeys } from './keys.js';

/**
 * The tokens Clockify would sign, signed with the simulator's key through the shared
 * `signAddonToken`. Each carries a random `jti`: RS256 signatures are deterministic, so without it
 * two webhooks of one installation (same claims, same second) would get the same token, and a
 * reinstall within a second would re-issue a token that the uninstall had just revoked.
 */

export interface TokenSubject {
  readonly addonKey: string;
  readonly workspaceId: string;
  readonly addonId: string;
}

/** Environment URLs of the tokens, derived from the mock's API URL (`…/api`). */
export function environmentFor(apiUrl: string, reportsUrl?: string): TokenEnvironment {
  const origin = new URL(apiUrl).origin;
  return {
    backendUrl: apiUrl.replace(/\/+$/, ''),
    reportsUrl: reportsUrl ?? `${origin}/reports`,
    locationsUrl: `${origin}/locations`,
    screenshotsUrl: `${origin}/screenshots`,
  };
}

export function signInstallationToken(
  keys: SimulatorKeys,
  s: TokenSubject & { ownerId: string; apiUrl: string; reportsUrl?: string },
): Promise<string> {
  return signAddonToken({
    kind: 'installation',
    privateKey: keys.privateKey,
    addonKey: s.addonKey,
    workspaceId: s.workspaceId,
    addonId: s.addonId,
    userId: s.ownerId,
    environment: environmentFor(s.apiUrl, s.reportsUrl),
    claims: { jti: jti() },
  });
}

export function signUserToken(
  keys: SimulatorKeys,
  s: TokenSubject & { userId: string; apiUrl: string; reportsUrl?: string; workspaceRole?: string },
): Promise<string> {
  return signAddonToken({
    kind: 'user',
    privateKey: keys.privateKey,
    addonKey: s.addonKey,
    workspaceId: s.workspaceId,
    addonId: s.addonId,
    userId: s.userId,
    environment: environmentFor(s.apiUrl, s.reportsUrl),
    claims: { jti: jti(), ...(s.workspaceRole ? { workspaceRole: s.workspaceRole } : {}) },
  });
}

export function signWebhookToken(keys: SimulatorKeys, s: TokenSubject): Promise<string> {
  return signAddonToken({
    kind: 'webhook',
    privateKey: keys.privateKey,
    addonKey: s.addonKey,
    workspaceId: s.workspaceId,
    addonId: s.addonId,
    claims: { jti: jti() },
  });
}

/** Lifecycle token claims are undocumented, so both variants exist: with or without the ids. */
export function signLifecycleToken(keys: SimulatorKeys, s: TokenSubject & { withWorkspace: boolean }): Promise<string> {
  return signAddonToken({
    kind: 'lifecycle',
    privateKey: keys.privateKey,
    addonKey: s.addonKey,
    ...(s.withWorkspace ? { workspaceId: s.workspaceId, addonId: s.addonId } : {}),
    claims: { jti: jti() },
  });
}

function jti(): string {
  return randomBytes(12).toString('hex');
}
