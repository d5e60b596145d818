import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ENTITY_EVENTS,
  KeySourceUnavailableError,
  TokenVerificationError,
  entityIdOf,
  type VerifiedToken,
} from '@cap/clockify';
import { enqueue, JOBS, withDeadline, type WebhookPayload } from '@cap/queue';
import type { IngressContext } from '../context.js';
import { parseJsonObject, readBody, requireJsonContentType } from '../http/body.js';
import { type Admission, admitWebhook } from '../admission.js';
import { HttpError, unavailable } from '../http/errors.js';
import { entityGateKey, entityGateParts, gateKey, type GateKind } from '../gates.js';

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
 * Postgres. Verify, check the event header and the workspace, take the workspace's fair turn,
 * derive the delivery key, take the dedupe gate and enqueue one small job at that turn; 200 only
 * once the job is in Redis.
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
  const body = parseJsonObject(raw, ctx.config.INGRESS_MAX_JSON_DEPTH);
  const workspaceId = verified.claims.workspaceId;
  if (!workspaceId) throw new HttpError(401, 'missing_claim', 'the token carries no workspaceId');
  if (body.workspaceId !== undefined && body.workspaceId !== workspaceId) {
    throw new HttpError(403, 'workspace_mismatch', "the body's workspaceId differs from the token's");
  }

  const maxDepth = ctx.config.INGRESS_MAX_QUEUE_DEPTH;
  const depth = ctx.depth.current;
  // Shed above the configured depth (the contract's wording), not at it.
  if (maxDepth > 0 && depth > maxDepth) {
    throw unavailable('the webhook queue is full; retry later', 'overloaded');
  }
  const timeoutMs = ctx.config.REDIS_COMMAND_TIMEOUT_MS + 500;

  // Clockify sends no delivery id and the body's id is the entity's. The content key is the
  // identical content for the same workspace and event, signed by the same token; the token's
  // hash is part of it, so a delivery signed with a token the worker will refuse never takes the
  // gate or the row of the genuine delivery with the same bytes.
  const contentKey = createHash('sha256')
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
  // The job id doubles as the gate's holder: a release gives the gate up only while it is ours.
  const jobId = randomUUID();
  // Events about one entity take its entity gate (a duplicate repeats the entity's last accepted
  // content, at any spacing); the others the content gate (identical content inside the window).
  const entityType = ENTITY_EVENTS[event]?.entityType;
  const entityId = entityType ? entityIdOf(event, body) : undefined;
  const kind: GateKind = entityType && entityId ? 'entity' : 'content';
  const gate =
    entityType && entityId
      ? entityGateKey(ctx.config.BULLMQ_PREFIX, workspaceId, entityType, entityId)
      : gateKey(ctx.config.BULLMQ_PREFIX, contentKey);
  const release = () => ctx.gates.release(gate, jobId, now + windowMs, kind);
  const call: GateCall = { ctx, gate, release, contentKey, jobId, windowMs, timeoutMs };

  // The delivery's turn among the workspaces (its BullMQ priority) and its gate, in one round
  // trip. Above half the depth, a workspace already far ahead of its fair turn is shed before
  // the others are.
  const shedding = maxDepth > 0 && depth > maxDepth / 2;
  let admission: Admission;
  try {
    admission = await withDeadline(
      admitWebhook(ctx.redis, ctx.queues.webhooks, {
        workspaceId,
        ...(shedding ? { maxAhead: ctx.config.INGRESS_SHED_WORKSPACE_BACKLOG } : {}),
        gate,
        gateKind: kind,
        holder: jobId,
        contentKey,
        windowMs,
      }),
      timeoutMs,
      'Redis',
    );
  } catch {
    // Unknown whether the script ran (or will, on a stalled Redis): undo its gate if it did, or
    // the retry of this delivery would be answered as a duplicate of an event never queued.
    release();
    throw unavailable('the queue is unavailable; retry shortly');
  }
  if (admission.outcome === 'refused') {
    throw unavailable('this workspace has too many webhooks queued; retry later', 'overloaded');
  }
  const taken = kind === 'entity' ? await entityGateTaken(call, admission) : await contentGateTaken(call, admission);
  if (taken === 'duplicate') {
    ok(res, DUPLICATE);
    return { event, outcome: 'duplicate' };
  }
  const { deliveryKey, entitySeq } = taken;

  const payload: WebhookPayload = {
    v: 1,
    event,
    workspaceId,
    ...(verified.claims.addonId ? { addonId: verified.claims.addonId } : {}),
    deliveryKey,
    ...(entitySeq !== undefined ? { entitySeq } : {}),
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
    await withDeadline(
      enqueue(ctx.queues, JOBS.webhookProcess, payload, { jobId, priority: admission.turn }),
      timeoutMs,
      'Redis',
    );
  } catch {
    // Release the gate so Clockify's retry (or a resend) is not mistaken for a duplicate.
    release();
    throw unavailable('the event could not be queued; retry shortly');
  }
  ctx.ingressMetrics.enqueue.observe({ queue: 'webhooks' }, Number(process.hrtime.bigint() - started) / 1e9);
  if (ctx.config.WEBHOOK_DURABLE_ACK) {
    try {
      await ctx.durable.confirm();
    } catch {
      // The job and its gate stay: a resend is a duplicate of a queued job, unless Redis lost both.
      throw unavailable('the event could not be confirmed durable; retry shortly', 'not_durable');
    }
  }
  ok(res, ACCEPTED);
  return { event, outcome: 'accepted' };
}

interface TakenGate {
  readonly deliveryKey: string;
  /** The order of this delivery among its entity's accepted deliveries (entity events only). */
  readonly entitySeq?: number;
}

/** One delivery's attempt at a dedupe gate. */
interface GateCall {
  readonly ctx: IngressContext;
  readonly gate: string;
  /** Gives the gate up again (the job could not be queued), so the sender's retry gets through. */
  readonly release: () => void;
  /** SHA-256 of the content (workspace, event, token hash, raw body). */
  readonly contentKey: string;
  /** The job id, and the gate's holder while this delivery holds it. */
  readonly jobId: string;
  readonly windowMs: number;
  readonly timeoutMs: number;
}

type Admitted = Exclude<Admission, { outcome: 'refused' }>;

/**
 * Events whose body names no entity: the delivery key is the content key. The gate's own holder
 * means the script already ran once for this delivery (ioredis re-sends commands unanswered when a
 * connection drops): not a duplicate, the job still has to be added.
 */
async function contentGateTaken(call: GateCall, admitted: Admitted): Promise<TakenGate | 'duplicate'> {
  if (admitted.outcome === 'dup' && !(await takeOver(call, admitted.value, admitted.value, call.jobId))) {
    return 'duplicate';
  }
  return { deliveryKey: call.contentKey };
}

/**
 * Events about one entity: A → B → A are three changes. The delivery key covers the content and
 * the content accepted before it, so the third delivery (A again) gets a durable row of its own
 * instead of being taken for the first.
 */
async function entityGateTaken(call: GateCall, admitted: Admitted): Promise<TakenGate | 'duplicate'> {
  const taken = (value: string): TakenGate => {
    const { previous, seq } = entityGateParts(value);
    const deliveryKey =
      previous === ''
        ? call.contentKey
        : createHash('sha256').update(call.contentKey).update('\0').update(previous).digest('hex');
    return { deliveryKey, ...(seq > 0 ? { entitySeq: seq } : {}) };
  };
  if (admitted.outcome !== 'dup') return taken(admitted.value);
  // The same content holds the gate; if its holder is one of ours that failed to queue, take over.
  const held = entityGateParts(admitted.value);
  const mine = `${call.jobId}|${held.content}|${held.previous}|${held.seq}`;
  if (await takeOver(call, admitted.value, held.holder, mine)) return taken(mine);
  return 'duplicate';
}

/** Takes a gate held by one of our failed deliveries (release pending); false: a genuine duplicate. */
async function takeOver(call: GateCall, current: string, holder: string, next: string): Promise<boolean> {
  try {
    return await call.ctx.gates.takeOver(call.gate, current, holder, next, call.windowMs);
  } catch {
    call.release();
    throw unavailable('the queue is unavailable; retry shortly');
  }
}
