import {
  bootstrapProgress,
  countEntities,
  countWebhookEventsByStatus,
  getActiveBootstrapRun,
  getInstallation,
  latestInstallationOfWorkspace,
  listBootstrapRuns,
  recentWebhookEvents,
  type BootstrapProgress,
  type Database,
  type Installation,
  type Kysely,
  type WebhookEvent,
} from '@cap/db';
import { JOBS, enqueue } from '@cap/queue';
import type { OperationsDeps } from './dead-letters.js';

export class OperationError extends Error {
  override name = 'OperationError';
  constructor(
    message: string,
    readonly code: 'not_found' | 'not_active' | 'conflict',
  ) {
    super(message);
  }
}

/** Finds the installation of a workspace (there is one per add-on; `addonId` picks among several). */
export async function findInstallation(
  db: Kysely<Database>,
  workspaceId: string,
  addonId?: string,
): Promise<Installation | undefined> {
  if (addonId) return getInstallation(db, { workspaceId, addonId });
  return latestInstallationOfWorkspace(db, workspaceId);
}

/**
 * Asks the workers to bootstrap a workspace now. Refused when the installation is not ACTIVE;
 * when a run is already active the job still goes out and the worker reports it as joined.
 */
export async function requestBootstrap(
  deps: OperationsDeps,
  workspaceId: string,
  opts: { addonId?: string; trigger?: 'manual' | 'reconcile' } = {},
): Promise<{ jobId: string; workspaceId: string; addonId: string; activeRunId: string | null }> {
  const installation = await findInstallation(deps.db, workspaceId, opts.addonId);
  if (!installation) throw new OperationError(`workspace ${workspaceId} has no installation`, 'not_found');
  if (installation.status !== 'ACTIVE') {
    throw new OperationError(
      `the installation in workspace ${workspaceId} is ${installation.status}, not ACTIVE`,
      'not_active',
    );
  }
  const key = { workspaceId, addonId: installation.addon_id };
  const active = await getActiveBootstrapRun(deps.db, key);
  const jobId = await enqueue(deps.queues, JOBS.bootstrapStart, { v: 1, ...key, trigger: opts.trigger ?? 'manual' });
  return { jobId, ...key, activeRunId: active?.id ?? null };
}

export interface WorkspaceStatus {
  readonly installation: Omit<Installation, 'auth_token_enc' | 'auth_token_hash'> & { hasToken: boolean };
  readonly latestRun: BootstrapProgress | undefined;
  readonly recentRuns: { id: string; status: string; trigger: string; createdAt: Date; finishedAt: Date | null }[];
  readonly entities: Record<string, number>;
  readonly webhookEvents: Record<string, number>;
  readonly recentEvents: Pick<
    WebhookEvent,
    'event' | 'status' | 'entity_id' | 'received_at' | 'processed_at' | 'token_check' | 'error'
  >[];
}

/** What the sidebar and the admin API show for one workspace. Never includes a token. */
export async function workspaceStatus(
  db: Kysely<Database>,
  workspaceId: string,
  addonId?: string,
): Promise<WorkspaceStatus | undefined> {
  const installation = await findInstallation(db, workspaceId, addonId);
  if (!installation) return undefined;
  const key = { workspaceId, addonId: installation.addon_id };
  const runs = await listBootstrapRuns(db, key, 5);
  const latestRun = runs[0] ? await bootstrapProgress(db, runs[0].id) : undefined;
  const { auth_token_enc, auth_token_hash: _hash, ...rest } = installation;
  const events = await recentWebhookEvents(db, workspaceId, 15);
  return {
    installation: { ...rest, hasToken: auth_token_enc !== null },
    latestRun,
    recentRuns: runs.map((r) => ({
      id: r.id,
      status: r.status,
      trigger: r.trigger,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
    })),
    entities: await countEntities(db, workspaceId),
    webhookEvents: await countWebhookEventsByStatus(db, workspaceId),
    recentEvents: events.map((e) => ({
      event: e.event,
      status: e.status,
      entity_id: e.entity_id,
      received_at: e.received_at,
      processed_at: e.processed_at,
      token_check: e.token_check,
      error: e.error,
    })),
  };
}
