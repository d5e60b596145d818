import { randomUUID } from 'node:crypto';
import { Job } from 'bullmq';
import {
  getDeadLetter,
  listDeadLetters,
  markDeadLetterReplayed,
  undoDeadLetterReplay,
  type Database,
  type DeadLetter,
  type Kysely,
  type NewDeadLetter,
} from '@cap/db';
import { JOB_QUEUE, parsePayload, queueFor, type JobName, type Queues } from '@cap/queue';

export interface OperationsDeps {
  readonly db: Kysely<Database>;
  readonly queues: Queues;
}

const TOKEN_FIELD = /^(authToken|authTokenEnc|token|tokenEnc)$/i;
export const REMOVED_SECRET = '[removed]';

/**
 * A job payload fit for `dead_letters`: every token field is removed, even encrypted ones
 * (hashes stay: they are needed to check a replayed webhook's token). Returns whether anything
 * was removed, so a replay knows to take the data from the original job instead.
 */
export function sanitizeForDeadLetter(data: unknown): { payload: Record<string, unknown>; stripped: boolean } {
  let stripped = false;
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (TOKEN_FIELD.test(k) && v !== undefined && v !== null) {
        out[k] = REMOVED_SECRET;
        stripped = true;
      } else out[k] = walk(v);
    }
    return out;
  };
  const payload = walk(data);
  return {
    payload: (payload && typeof payload === 'object' ? payload : { value: payload }) as Record<string, unknown>,
    stripped,
  };
}

/**
 * The dead letter of a job that failed for good, as the worker records it when the job fails and
 * as the sweep records it later when that write could not happen: token fields removed.
 */
export function deadLetterOf(
  queue: string,
  job: {
    readonly name: string;
    readonly id?: string | undefined;
    readonly data: unknown;
    readonly attemptsMade: number;
  },
  error: string,
): NewDeadLetter {
  const { payload } = sanitizeForDeadLetter(job.data);
  return {
    queue,
    jobName: job.name,
    jobId: job.id ?? 'unknown',
    workspaceId: typeof payload.workspaceId === 'string' ? payload.workspaceId : null,
    payload,
    error,
    attempts: job.attemptsMade,
  };
}

export class ReplayError extends Error {
  override name = 'ReplayError';
  constructor(
    message: string,
    readonly code: 'not_found' | 'already_replayed' | 'payload_unavailable' | 'invalid_payload',
  ) {
    super(message);
  }
}

function hasRemovedSecrets(value: unknown): boolean {
  if (value === REMOVED_SECRET) return true;
  if (Array.isArray(value)) return value.some(hasRemovedSecrets);
  if (value && typeof value === 'object') return Object.values(value).some(hasRemovedSecrets);
  return false;
}

/**
 * Replays a dead letter as a new job (new id, same payload). The row is claimed first, so two
 * operators replaying at once enqueue one job; if the enqueue fails the claim is released.
 * Payloads whose tokens were removed are taken from the original job in BullMQ's failed set.
 */
export async function replayDeadLetter(
  deps: OperationsDeps,
  id: number,
): Promise<{ id: number; jobId: string; queue: string; jobName: string }> {
  const letter = await getDeadLetter(deps.db, id);
  if (!letter) throw new ReplayError(`dead letter ${id} does not exist`, 'not_found');
  if (letter.replayed_at)
    throw new ReplayError(`dead letter ${id} was already replayed as job ${letter.replay_job_id}`, 'already_replayed');
  const name = letter.job_name as JobName;
  if (!(name in JOB_QUEUE))
    throw new ReplayError(`dead letter ${id} has an unknown job name ${letter.job_name}`, 'invalid_payload');

  let data: unknown = letter.payload;
  if (hasRemovedSecrets(letter.payload)) {
    const original = await Job.fromId(queueFor(deps.queues, name), letter.job_id);
    if (!original) {
      throw new ReplayError(
        `dead letter ${id} held tokens that are not kept in dead_letters, and the original job ${letter.job_id} is no longer in the failed set; ask Clockify to resend (reinstall) instead`,
        'payload_unavailable',
      );
    }
    data = original.data;
  }
  try {
    data = parsePayload(name, data);
  } catch (err) {
    throw new ReplayError(`dead letter ${id} cannot be replayed: ${(err as Error).message}`, 'invalid_payload');
  }

  const jobId = randomUUID();
  if (!(await markDeadLetterReplayed(deps.db, id, jobId))) {
    throw new ReplayError(`dead letter ${id} was replayed concurrently`, 'already_replayed');
  }
  try {
    await queueFor(deps.queues, name).add(name, data, { jobId });
  } catch (err) {
    await undoDeadLetterReplay(deps.db, id, jobId);
    throw err;
  }
  return { id, jobId, queue: JOB_QUEUE[name], jobName: name };
}

export interface ReplayAllResult {
  readonly replayed: { id: number; jobId: string }[];
  readonly failed: { id: number; error: string }[];
}

/** Replays every open dead letter (optionally of one workspace), oldest first, in batches. */
export async function replayAllDeadLetters(
  deps: OperationsDeps,
  opts: { workspaceId?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<ReplayAllResult> {
  const open = await listDeadLetters(deps.db, {
    limit: 1000,
    ...(opts.workspaceId ? { workspaceId: opts.workspaceId } : {}),
  });
  const ids = open.map((l) => l.id).reverse();
  const result: ReplayAllResult = { replayed: [], failed: [] };
  for (const [i, id] of ids.entries()) {
    try {
      const r = await replayDeadLetter(deps, id);
      result.replayed.push({ id, jobId: r.jobId });
    } catch (err) {
      result.failed.push({ id, error: (err as Error).message });
    }
    opts.onProgress?.(i + 1, ids.length);
  }
  return result;
}

export type { DeadLetter };
