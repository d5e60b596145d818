import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeySourceUnavailableError, TokenVerificationError, type VerifiedToken } from '@cap/clockify';
import { JOBS, type WebhookPayload } from '@cap/queue';
import type { IngressContext } from '../context.js';
import { parseJsonObject, readBody, requireJsonContentType } from '../http/body.js';
import { HttpError, sendJson, unavailable } from '../http/errors.js';
import { gateKey, withDeadline } from '../redis.js';

const ACCEPTED = JSON.stringify({ received: true });
const DUPLICATE = JSON.stringify({ received: true, duplicate: true });

/** What the webhook route did, for metrics (the HTTP answer is written by the handler). */
export interface WebhookResult {
  readonly event: string;
  readonly outcome: 'accepted' | 'duplicate';
}

function ok(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Turns verifier failures into answers: bad token 401, workspace/addon mismatch 403, key source down 503. */
export function verificationFailure(err: unknown): HttpError {
  if (err instanceof TokenVerificationError) return new HttpError(err.status, err.reason, err.message);
  if (err instanceof KeySourceUnavailableError) return unavailable('the token signing keys are unavailable; try again');
  throw err;
}

/**
 * `POST /webhooks/<event>`: steps 1–4 of the webhook flow, served without express and without
 * Postgres. Verify, check the event header and the workspace, derive the delivery key, take the
 * dedupe gate (SET NX PX) and enqueue one small job; 200 only once the job is in Redis.
 */
export async function handleWebhook(
  ctx: IngressContext,
  req: IncomingMessage,
  res: ServerResponse,
  segment: string,
  requestId: string,
): Promise<WebhookResult> {
  const event = ctx.routes.get(segment);
  if (!event) throw new HttpError(404, 'not_found', 'this add-on does not subscribe to that webhook');
  if (req.method !== 'POST')
    throw new HttpError(405, 'method_not_allowed', 'webhooks are POST only', { allow: 'POST' });
  requireJsonContentType(req);

  const token = req.headers['clockify-signature'];
  if (typeof token !== 'string' || token.length === 0) {
    throw new HttpError(401, 'missing_token', 'the clockify-signature header is missing');
  }
  let verified: VerifiedToken;
  try {
    verified = await ctx.verifier.verify(token, 'webhook');
  } catch (err) {
    throw verificationFailure(err);
  }

  const header = req.headers['clockify-webhook-event-type'];
  if (header !== event) {
    throw new HttpError(
      400,
      'wrong_event',
      header === undefined
        ? 'the clockify-webhook-event-type header is missing'
        : `the clockify-webhook-event-type header does not match this route (${event})`,
    );
  }

  const raw = await readBody(req, ctx.config.WEBHOOK_MAX_BODY_BYTES);
  const body = parseJsonObject(raw);
  const workspaceId = verified.claims.workspaceId;
  if (!workspaceId) throw new HttpError(401, 'missing_claim', 'the token carries no workspaceId');
  if (body.workspaceId !== undefined && body.workspaceId !== workspaceId) {
    throw new HttpError(403, 'workspace_mismatch', "the body's workspaceId differs from the token's");
  }

  const maxDepth = ctx.config.INGRESS_MAX_QUEUE_DEPTH;
  // Shed above the configured depth (the contract's wording), not at it.
  if (maxDepth > 0 && ctx.depth.current > maxDepth) {
    throw unavailable('the webhook queue is full; retry later', 'overloaded');
  }

  // Clockify sends no delivery id and the body's id is the entity's: identical content for the
  // same workspace and event, signed by the same token, is the only safe notion of "the same
  // delivery". The token's hash is part of it, so a delivery signed with a token the worker will
  // refuse never takes the gate or the row of the genuine delivery with the same bytes.
  const deliveryKey = createHash('sha256')
    .update(workspaceId)
    .update('\0')
    .update(event)
    .update('\0')
    .update(verified.tokenHash)
    .update('\0')
    .update(raw)
    .digest('hex');
  const windowMs = ctx.config.WEBHOOK_DEDUPE_WINDOW_SECONDS * 1000;
  const now = Date.now();
  const gate = gateKey(ctx.config.BULLMQ_PREFIX, deliveryKey);
  const timeoutMs = ctx.config.REDIS_COMMAND_TIMEOUT_MS + 500;

  // The job id doubles as the gate's value: a release deletes the gate only while it is ours.
  const jobId = randomUUID();
  const release = () => ctx.gates.release(gate, jobId, now + windowMs);

  // NX with GET (Redis ≥ 7) returns the previous holder. Our own id means this SET already ran
  // once: ioredis re-sends commands unanswered when a connection drops, and the first copy may
  // have taken the gate before the drop. That is not a duplicate; the job still has to be added.
  let previous: string | null;
  try {
    previous = await withDeadline(ctx.redis.set(gate, jobId, 'PX', windowMs, 'NX', 'GET'), timeoutMs, 'Redis');
  } catch {
    // The SET may still have run (or run later, on a stalled Redis): undo it, or the retry of this
    // delivery would be answered as a duplicate of an event that was never queued.
    release();
    throw unavailable('the queue is unavailable; retry shortly');
  }
  if (previous !== null && previous !== jobId) {
    let takenOver: boolean;
    try {
      takenOver = await ctx.gates.takeOver(gate, previous, jobId, windowMs);
    } catch {
      release();
      throw unavailable('the queue is unavailable; retry shortly');
    }
    if (!takenOver) {
      ok(res, DUPLICATE);
      return { event, outcome: 'duplicate' };
    }
  }

  const payload: WebhookPayload = {
    v: 1,
    event,
    workspaceId,
    ...(verified.claims.addonId ? { addonId: verified.claims.addonId } : {}),
    deliveryKey,
    windowStart: Math.floor(now / windowMs) * windowMs,
    windowSeconds: ctx.config.WEBHOOK_DEDUPE_WINDOW_SECONDS,
    receivedAt: now,
    tokenHash: verified.tokenHash,
    verified: verified.verified,
    body: raw.toString('utf8'),
    requestId,
  };
  const started = process.hrtime.bigint();
  try {
    await withDeadline(ctx.queues.webhooks.add(JOBS.webhookProcess, payload, { jobId }), timeoutMs, 'Redis');
  } catch {
    // Release the gate so Clockify's retry (or a resend) is not mistaken for a duplicate.
    release();
    throw unavailable('the event could not be queued; retry shortly');
  }
  ctx.m.enqueue.observe({ queue: 'webhooks' }, Number(process.hrtime.bigint() - started) / 1e9);
  ok(res, ACCEPTED);
  return { event, outcome: 'accepted' };
}

export function sendUnexpected(res: ServerResponse, requestId: string): void {
  sendJson(res, 500, { error: { code: 'internal', message: 'unexpected error', requestId } });
}
