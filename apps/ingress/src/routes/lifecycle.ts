import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import {
  LIFECYCLE_PATHS,
  TokenVerificationError,
  type LifecycleType,
  type VerificationReason,
  type VerifiedToken,
  type WebhookEventName,
} from '@cap/clockify';
import {
  enqueueLifecycle,
  storedTokenKind,
  withDeadline,
  type InstalledPayload,
  type LifecyclePayload,
} from '@cap/queue';
import { TOKEN_COLUMNS } from '@cap/secrets';
import type { IngressContext } from '../context.js';
import { parseJsonObject, readBody, requireJsonContentType } from '../http/body.js';
import { HttpError, unavailable, wrongKind } from '../http/errors.js';
import { nextLifecycleSeq } from '../lifecycle-seq.js';
import { verificationFailure } from './webhooks.js';

type InstalledWebhook = InstalledPayload['body']['webhooks'][number];

const id = z.string().min(1).max(128);
// Only the type is checked here: what a token string contains (empty, too long, malformed) is the
// verifier's to judge, so every bad token is a 401 wherever it travels. WEBHOOK_MAX_BODY_BYTES
// bounds its length, and the verifier refuses oversized tokens before hashing them.
const jwt = z.string();

/** Lifecycle bodies as Clockify sends them (REFERENCE.md §2.6); unknown fields pass through. */
export const lifecycleBodies = {
  INSTALLED: z
    .object({
      addonId: id,
      authToken: jwt,
      workspaceId: id,
      // Optional fields may come as null: Clockify sends INSTALLED once, so nothing it may
      // leave empty refuses the install.
      asUser: id.nullish(),
      apiUrl: z.url({ protocol: /^https?$/ }).nullish(),
      addonUserId: id.nullish(),
      // Each entry is judged on its own (webhookEntry): one bad webhook skips that webhook only.
      webhooks: z.array(z.unknown()).max(100).nullish(),
    })
    .loose(),
  DELETED: z.object({ addonId: id, workspaceId: id, asUser: id.nullish() }).loose(),
  SETTINGS_UPDATED: z
    .object({
      addonId: id,
      workspaceId: id,
      settings: z
        .array(
          z
            .object({ id: z.string().min(1).max(256), name: z.string().max(512).optional(), value: z.unknown() })
            .loose(),
        )
        .max(500),
    })
    .loose(),
  STATUS_CHANGED: z.object({ addonId: id, workspaceId: id, status: z.enum(['ACTIVE', 'INACTIVE']) }).loose(),
} as const;

export const LIFECYCLE_ROUTES: ReadonlyArray<readonly [string, LifecycleType]> = (
  Object.entries(LIFECYCLE_PATHS) as [LifecycleType, string][]
).map(([type, path]) => [path, type] as const);

function lifecycleToken(req: IncomingMessage): string {
  const token = req.headers['x-addon-lifecycle-token'] ?? req.headers['clockify-signature'];
  if (typeof token !== 'string' || token.length === 0) {
    throw new HttpError(401, 'missing_token', 'the X-Addon-Lifecycle-Token header is missing');
  }
  return token;
}

const webhookEntry = z
  .object({
    path: z.string().min(1).max(2048),
    webhookType: z.string().max(64).nullish(),
    authToken: jwt,
  })
  .loose();

/** Why an INSTALLED `webhooks[]` entry was not stored: a verifier reason, or one of these. */
export type SkippedWebhookReason = VerificationReason | 'malformed_entry' | 'unknown_path';

export interface SkippedWebhook {
  readonly index: number;
  /** The entry's path (truncated), when it had one. */
  readonly path?: string;
  readonly reason: SkippedWebhookReason;
}

/**
 * Maps an INSTALLED `webhooks[].path` (relative, or a full URL despite its name) to the subscribed
 * event whose route it points at: the URL's path, minus BASE_URL's base path.
 */
export function eventForWebhookPath(
  path: string,
  baseUrl: string,
  routes: ReadonlyMap<string, WebhookEventName>,
): WebhookEventName | undefined {
  let pathname: string;
  try {
    pathname = new URL(path, baseUrl).pathname;
  } catch {
    return undefined;
  }
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  if (basePath && pathname.startsWith(`${basePath}/`)) pathname = pathname.slice(basePath.length);
  const m = /^\/webhooks\/([a-z0-9-]+)\/?$/.exec(pathname);
  return m ? routes.get(m[1]!) : undefined;
}

function validationError(type: LifecycleType, error: z.ZodError): HttpError {
  const details = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');
  return new HttpError(400, 'invalid_body', `invalid ${type} body: ${details}`);
}

/**
 * `POST /lifecycle/<type>`: verify the lifecycle token, validate the body, check its ids against
 * the token's claims, encrypt every token field, stamp a per-workspace sequence and enqueue.
 * No Postgres; 200 only once the job is in Redis.
 */
export async function handleLifecycle(
  ctx: IngressContext,
  req: IncomingMessage,
  type: LifecycleType,
  requestId: string,
): Promise<{ workspaceId: string; seq: number }> {
  requireJsonContentType(req);
  const token = lifecycleToken(req);
  let claims: VerifiedToken;
  try {
    claims = await ctx.verifier.verify(token, 'lifecycle');
  } catch (err) {
    throw verificationFailure(err);
  }
  const raw = await readBody(req, ctx.config.WEBHOOK_MAX_BODY_BYTES);
  const parsed = lifecycleBodies[type].safeParse(parseJsonObject(raw, ctx.config.INGRESS_MAX_JSON_DEPTH));
  if (!parsed.success) throw validationError(type, parsed.error);
  const body = parsed.data;
  try {
    // Claims, when present, must name the same workspace and installation as the body.
    await ctx.verifier.verify(token, 'lifecycle', { workspaceId: body.workspaceId, addonId: body.addonId });
  } catch (err) {
    throw verificationFailure(err);
  }

  const timeoutMs = ctx.config.REDIS_COMMAND_TIMEOUT_MS + 500;
  // A lifecycle token has no claim that sets it apart from a webhook token, so a stored webhook or
  // installation token is recognised by its hash (the worker checks the same against Postgres).
  const stored = await redisOr503(storedTokenKind(ctx.redis, ctx.config.BULLMQ_PREFIX, claims.tokenHash), timeoutMs);
  if (stored !== undefined) throw wrongKind(`a ${stored} token is not accepted as a lifecycle token`);

  const base = {
    v: 1 as const,
    workspaceId: body.workspaceId,
    addonId: body.addonId,
    receivedAt: Date.now(),
    verified: claims.verified,
    requestId,
    tokenHash: claims.tokenHash,
    // The same token and the same bytes again: a replay, ignored by the worker once applied.
    receipt: createHash('sha256')
      .update(claims.tokenHash)
      .update('\0')
      .update(type)
      .update('\0')
      .update(raw)
      .digest('hex'),
  };
  let payload: Omit<LifecyclePayload, 'seq'>;
  if (type === 'INSTALLED') {
    const installed = body as z.infer<(typeof lifecycleBodies)['INSTALLED']>;
    const expect = { workspaceId: installed.workspaceId, addonId: installed.addonId };
    let installation: VerifiedToken;
    try {
      installation = await ctx.verifier.verify(installed.authToken, 'installation', expect);
    } catch (err) {
      const failure = verificationFailure(err);
      throw new HttpError(failure.status, failure.code, `authToken: ${failure.message}`, failure.headers);
    }
    // No token may serve as two kinds: the header's lifecycle token, the installation token and
    // each webhook token must all differ.
    const installationHash = installation.tokenHash;
    if (installationHash === claims.tokenHash) {
      throw wrongKind('authToken: the lifecycle token is not accepted as the installation token');
    }
    const { webhooks, skipped } = await acceptWebhookEntries(ctx, installed.webhooks ?? [], expect, [
      claims.tokenHash,
      installationHash,
    ]);
    if (skipped.length > 0) {
      for (const w of skipped) ctx.ingressMetrics.webhookSkipped.inc({ reason: w.reason });
      ctx.logger.warn(
        { workspaceId: installed.workspaceId, addonId: installed.addonId, skipped },
        'INSTALLED lists webhooks that were skipped; the rest of the install proceeds',
      );
    }
    if (!installed.apiUrl && !installation.claims.backendUrl) {
      throw new HttpError(
        400,
        'invalid_body',
        'invalid INSTALLED body: apiUrl is missing and the token has no backendUrl',
      );
    }
    payload = {
      ...base,
      type,
      body: {
        addonId: installed.addonId,
        workspaceId: installed.workspaceId,
        ...(installed.asUser ? { asUser: installed.asUser } : {}),
        ...(installed.apiUrl ? { apiUrl: installed.apiUrl } : {}),
        ...(installed.addonUserId ? { addonUserId: installed.addonUserId } : {}),
        // Bound to the row it will be stored in: it cannot be moved to another installation.
        authTokenEnc: ctx.keyring.encrypt(installed.authToken, { ...expect, column: TOKEN_COLUMNS.installationToken }),
        authTokenHash: installationHash,
        webhooks,
        ...(skipped.length > 0 ? { skippedWebhooks: skipped } : {}),
        ...(installation.claims.backendUrl ? { backendUrl: installation.claims.backendUrl } : {}),
        ...(installation.claims.reportsUrl ? { reportsUrl: installation.claims.reportsUrl } : {}),
      },
    };
  } else if (type === 'DELETED') {
    const b = body as z.infer<(typeof lifecycleBodies)['DELETED']>;
    payload = {
      ...base,
      type,
      body: { addonId: b.addonId, workspaceId: b.workspaceId, ...(b.asUser ? { asUser: b.asUser } : {}) },
    };
  } else if (type === 'SETTINGS_UPDATED') {
    const b = body as z.infer<(typeof lifecycleBodies)['SETTINGS_UPDATED']>;
    payload = { ...base, type, body: { addonId: b.addonId, workspaceId: b.workspaceId, settings: b.settings } };
  } else {
    const b = body as z.infer<(typeof lifecycleBodies)['STATUS_CHANGED']>;
    payload = { ...base, type, body: { addonId: b.addonId, workspaceId: b.workspaceId, status: b.status } };
  }

  const seq = await redisOr503(nextLifecycleSeq(ctx.redis, ctx.config.BULLMQ_PREFIX, body.workspaceId), timeoutMs);
  // The job schema is the contract with the workers: `enqueue` checks it before the job exists.
  await redisOr503(enqueueLifecycle(ctx.queues, { ...payload, seq } as LifecyclePayload), timeoutMs);
  // Clockify sends INSTALLED once: 200 only once Redis confirms the job durable (when it can). A
  // 503 here leaves a queued job; a retry of the same call is a replay the worker ignores.
  try {
    await ctx.durable.confirm();
  } catch (err) {
    ctx.logger.error(
      { err: { message: (err as Error).message }, workspaceId: body.workspaceId, lifecycle: type, requestId },
      'lifecycle event queued but not confirmed durable; answered 503',
    );
    throw unavailable('the lifecycle event could not be confirmed durable; retry shortly', 'not_durable');
  }
  ctx.logger.info(
    { workspaceId: body.workspaceId, addonId: body.addonId, lifecycle: type, seq, requestId },
    'lifecycle event queued',
  );
  return { workspaceId: body.workspaceId, seq };
}

/** A Redis call of the lifecycle path, bounded: no answer in time (or an error) is a 503. */
async function redisOr503<T>(call: Promise<T>, timeoutMs: number): Promise<T> {
  try {
    return await withDeadline(call, timeoutMs, 'Redis');
  } catch {
    throw unavailable('the lifecycle event could not be queued; retry shortly');
  }
}

/**
 * The INSTALLED `webhooks[]` entries to store: each with a token that verifies as a webhook token
 * of this installation (and is neither the lifecycle nor the installation token) and a path that
 * points at a subscribed event's route. Any other entry is skipped and reported, and the rest of
 * the install proceeds: Clockify sends INSTALLED once, so refusing it would lose the installation.
 * Only an outage of the key source (JWKS) fails the whole call, so Clockify can retry it.
 */
async function acceptWebhookEntries(
  ctx: IngressContext,
  entries: readonly unknown[],
  expect: { workspaceId: string; addonId: string },
  otherKinds: readonly string[],
): Promise<{ webhooks: InstalledWebhook[]; skipped: SkippedWebhook[] }> {
  const webhooks: InstalledWebhook[] = [];
  const skipped: SkippedWebhook[] = [];
  for (const [index, raw] of entries.entries()) {
    const parsed = webhookEntry.safeParse(raw);
    const rawPath = (raw as { path?: unknown } | null)?.path;
    const path = typeof rawPath === 'string' && rawPath !== '' ? { path: rawPath.slice(0, 256) } : {};
    if (!parsed.success) {
      skipped.push({ index, ...path, reason: 'malformed_entry' });
      continue;
    }
    const w = parsed.data;
    let token: VerifiedToken;
    try {
      token = await ctx.verifier.verify(w.authToken, 'webhook', expect);
    } catch (err) {
      if (!(err instanceof TokenVerificationError)) throw verificationFailure(err);
      skipped.push({ index, ...path, reason: err.reason });
      continue;
    }
    if (otherKinds.includes(token.tokenHash)) {
      skipped.push({ index, ...path, reason: 'wrong_kind' });
      continue;
    }
    const event = eventForWebhookPath(w.path, ctx.config.BASE_URL, ctx.routes);
    if (!event) {
      skipped.push({ index, ...path, reason: 'unknown_path' });
      continue;
    }
    webhooks.push({
      path: w.path,
      ...(w.webhookType ? { webhookType: w.webhookType } : {}),
      event,
      authTokenEnc: ctx.keyring.encrypt(w.authToken, { ...expect, column: TOKEN_COLUMNS.webhookToken(event) }),
      tokenHash: token.tokenHash,
    });
  }
  return { webhooks, skipped };
}
