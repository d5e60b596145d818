import {
  listInstallationWebhooks,
  recentLifecycleReceipts,
  type Database,
  type InstallationOverview,
  type Kysely,
} from '@cap/db';
import { workspaceStatus, type WorkspaceStatus } from './bootstrap.js';

export { listInstallationOverviews, type InstallationOverview } from '@cap/db';

/** `installations show` and `GET /admin/api/installations/:workspaceId`. Never includes a token. */
export interface InstallationDetail extends WorkspaceStatus {
  /** The webhooks Clockify registered for it (a token is stored for each; not shown). */
  readonly webhooks: { event: string; path: string }[];
  /** The lifecycle calls decided for it, newest first. */
  readonly lifecycle: { type: string; seq: number; outcome: string; decidedAt: Date }[];
}

export async function installationDetail(
  db: Kysely<Database>,
  workspaceId: string,
  addonId?: string,
): Promise<InstallationDetail | undefined> {
  const status = await workspaceStatus(db, workspaceId, addonId);
  if (!status) return undefined;
  const key = { workspaceId, addonId: status.installation.addon_id };
  const [webhooks, lifecycle] = await Promise.all([
    listInstallationWebhooks(db, key),
    recentLifecycleReceipts(db, key, 10),
  ]);
  return { ...status, webhooks, lifecycle };
}

/** Summary fields of an overview for a table (CLI). */
export function overviewRow(o: InstallationOverview): Record<string, unknown> {
  return {
    workspace: o.workspaceId,
    addon: o.addonId,
    status: o.status,
    installed: o.installedAt.toISOString(),
    token: o.hasToken ? 'yes' : 'no',
    'webhook tokens': o.webhookTokens,
    'last lifecycle': o.lastLifecycle ? `${o.lastLifecycle.type} ${o.lastLifecycle.at.toISOString()}` : '',
    bootstrap: o.bootstrap ? o.bootstrap.status : '',
  };
}
