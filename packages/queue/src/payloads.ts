import { z } from 'zod';
import { JOBS, type JobName } from './names.js';

/**
 * One zod schema per job payload. Jobs outlive deployments, so a field added later must be
 * optional; `v` lets a processor tell old shapes apart if a breaking change is ever needed.
 * No payload ever holds a token in the clear: tokens are AES-GCM ciphertexts (`enc:v2:…`) or
 * SHA-256 hashes.
 */

/** `enc:v2:<keyId>:<iv>:<ciphertext>:<tag>` as the keyring writes it (base64url parts; v1 from before). */
const ciphertext = z
  .string()
  .max(16_384)
  .regex(/^enc:v[12]:[A-Za-z0-9_-]+(?::[A-Za-z0-9_-]+){3}$/, 'must be an encrypted token');
const id = z.string().min(1).max(128);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const lifecycleTypes = ['INSTALLED', 'DELETED', 'SETTINGS_UPDATED', 'STATUS_CHANGED'] as const;
export type LifecycleType = (typeof lifecycleTypes)[number];

const lifecycleBase = {
  v: z.literal(1),
  workspaceId: id,
  addonId: id,
  /** Per-workspace sequence stamped by the ingress; applied only if newer than the stored one. */
  seq: z.number().int().positive(),
  receivedAt: z.number().int().positive(),
  /** False only when signature verification was disabled (development). */
  verified: z.boolean(),
  requestId: z.string().max(128).optional(),
  /** SHA-256 of the lifecycle token: the worker refuses a stored webhook or installation token. */
  tokenHash: sha256Hex.optional(),
  /** SHA-256 over (token, type, raw body): a call whose receipt was already applied is a replay. */
  receipt: sha256Hex.optional(),
};

/**
 * Lifecycle bodies keep fields Clockify may add (loose), but never a token in the clear: the
 * ingress encrypts every token into `authTokenEnc` before it enqueues.
 */
const NO_PLAINTEXT_TOKEN: {
  check: (body: Record<string, unknown>) => boolean;
  error: { message: string; path: PropertyKey[] };
} = {
  check: (body) => !Object.prototype.hasOwnProperty.call(body, 'authToken'),
  error: { message: 'a plaintext authToken is never queued (encrypt it into authTokenEnc)', path: ['authToken'] },
};

/** The envelope names the installation its body is about: both must agree. */
const SAME_INSTALLATION: {
  check: (p: { workspaceId: string; addonId: string; body: { workspaceId: string; addonId: string } }) => boolean;
  error: { message: string; path: PropertyKey[] };
} = {
  check: (p) => p.body.workspaceId === p.workspaceId && p.body.addonId === p.addonId,
  error: { message: 'body.workspaceId and body.addonId must match the envelope', path: ['body'] },
};

export const installedPayload = z
  .object({
    ...lifecycleBase,
    type: z.literal('INSTALLED'),
    body: z
      .object({
        addonId: id,
        workspaceId: id,
        asUser: z.string().max(128).optional(),
        apiUrl: z.string().url().optional(),
        addonUserId: z.string().max(128).optional(),
        authTokenEnc: ciphertext,
        /** SHA-256 of the installation token, stored so it is never accepted as another kind. */
        authTokenHash: sha256Hex.optional(),
        webhooks: z
          .array(
            z.object({
              path: z.string().max(2048),
              webhookType: z.string().max(64).optional(),
              /** The manifest event whose route the path points at (matched by the ingress), if any. */
              event: z
                .string()
                .regex(/^[A-Z_]{3,64}$/)
                .optional(),
              authTokenEnc: ciphertext,
              tokenHash: sha256Hex,
            }),
          )
          .max(100),
        /** Entries of `webhooks[]` not stored, and why (a bad token, a path matching no route). */
        skippedWebhooks: z
          .array(
            z.object({
              index: z.number().int().min(0),
              path: z.string().max(256).optional(),
              reason: z.string().regex(/^[a-z_]{1,32}$/),
            }),
          )
          .max(100)
          .optional(),
        /** Claims of the installation token that locate the API (`backendUrl`, `reportsUrl`). */
        backendUrl: z.string().url().optional(),
        reportsUrl: z.string().url().optional(),
      })
      .loose()
      .refine(NO_PLAINTEXT_TOKEN.check, NO_PLAINTEXT_TOKEN.error),
  })
  .refine(SAME_INSTALLATION.check, SAME_INSTALLATION.error);

export const deletedPayload = z
  .object({
    ...lifecycleBase,
    type: z.literal('DELETED'),
    body: z
      .object({ addonId: id, workspaceId: id, asUser: z.string().max(128).optional() })
      .loose()
      .refine(NO_PLAINTEXT_TOKEN.check, NO_PLAINTEXT_TOKEN.error),
  })
  .refine(SAME_INSTALLATION.check, SAME_INSTALLATION.error);

export const settingsUpdatedPayload = z
  .object({
    ...lifecycleBase,
    type: z.literal('SETTINGS_UPDATED'),
    body: z
      .object({
        addonId: id,
        workspaceId: id,
        settings: z
          .array(z.object({ id: z.string(), name: z.string().optional(), value: z.unknown() }).loose())
          .max(500),
      })
      .loose()
      .refine(NO_PLAINTEXT_TOKEN.check, NO_PLAINTEXT_TOKEN.error),
  })
  .refine(SAME_INSTALLATION.check, SAME_INSTALLATION.error);

export const statusChangedPayload = z
  .object({
    ...lifecycleBase,
    type: z.literal('STATUS_CHANGED'),
    body: z
      .object({ addonId: id, workspaceId: id, status: z.enum(['ACTIVE', 'INACTIVE']) })
      .loose()
      .refine(NO_PLAINTEXT_TOKEN.check, NO_PLAINTEXT_TOKEN.error),
  })
  .refine(SAME_INSTALLATION.check, SAME_INSTALLATION.error);

export const lifecyclePayload = z.discriminatedUnion('type', [
  installedPayload,
  deletedPayload,
  settingsUpdatedPayload,
  statusChangedPayload,
]);
export type LifecyclePayload = z.infer<typeof lifecyclePayload>;
export type InstalledPayload = z.infer<typeof installedPayload>;

export const webhookPayload = z.object({
  v: z.literal(1),
  /** Clockify event name, e.g. NEW_TIME_ENTRY. */
  event: z.string().regex(/^[A-Z_]{3,64}$/),
  workspaceId: id,
  addonId: id.optional(),
  /** SHA-256 over the content (workspace, event, token hash, raw body) and, for entity events, the content accepted before it. */
  deliveryKey: sha256Hex,
  /**
   * The order of this delivery among the accepted deliveries of the entity its body names (entity
   * events): the worker applies an entity's changes by it, whatever order the jobs finish in.
   */
  entitySeq: z.number().int().positive().optional(),
  /** Start of the dedupe window (epoch ms) the delivery falls in. */
  windowStart: z.number().int().nonnegative(),
  windowSeconds: z.number().int().positive(),
  receivedAt: z.number().int().positive(),
  /** SHA-256 of the `clockify-signature` token, compared with the stored per-webhook token. */
  tokenHash: sha256Hex,
  verified: z.boolean(),
  /** The raw JSON body as received. */
  body: z.string(),
  requestId: z.string().max(128).optional(),
});
export type WebhookPayload = z.infer<typeof webhookPayload>;

export const bootstrapTriggers = ['install', 'manual', 'reconcile'] as const;

export const bootstrapStartPayload = z.object({
  v: z.literal(1),
  workspaceId: id,
  addonId: id,
  trigger: z.enum(bootstrapTriggers),
});
export type BootstrapStartPayload = z.infer<typeof bootstrapStartPayload>;

export const bootstrapResourcePayload = z.object({
  v: z.literal(1),
  runId: z.uuid(),
  workspaceId: id,
  addonId: id,
  resource: z.string().min(1).max(64),
});
export type BootstrapResourcePayload = z.infer<typeof bootstrapResourcePayload>;

export const loadSettingsPayload = z.object({
  v: z.literal(1),
  workspaceId: id,
  addonId: id,
  /** Sequence of the INSTALLED that asked for it: a later reinstall makes this job stale. */
  seq: z.number().int().positive(),
});
export type LoadSettingsPayload = z.infer<typeof loadSettingsPayload>;

export const retentionPayload = z.object({ v: z.literal(1) }).loose();
export const reconcilePayload = z.object({ v: z.literal(1) }).loose();
export const webhookHealthPayload = z.object({ v: z.literal(1) }).loose();
export const deadLetterSweepPayload = z.object({ v: z.literal(1) }).loose();
export const purgeInstallationPayload = z.object({
  v: z.literal(1),
  workspaceId: id,
  addonId: id,
  /** Sequence of the DELETED event that scheduled the purge. */
  seq: z.number().int().positive(),
});
export type PurgeInstallationPayload = z.infer<typeof purgeInstallationPayload>;

export const JOB_PAYLOADS = {
  [JOBS.lifecycleInstalled]: installedPayload,
  [JOBS.lifecycleDeleted]: deletedPayload,
  [JOBS.lifecycleSettingsUpdated]: settingsUpdatedPayload,
  [JOBS.lifecycleStatusChanged]: statusChangedPayload,
  [JOBS.lifecycleLoadSettings]: loadSettingsPayload,
  [JOBS.webhookProcess]: webhookPayload,
  [JOBS.bootstrapStart]: bootstrapStartPayload,
  [JOBS.bootstrapResource]: bootstrapResourcePayload,
  [JOBS.retention]: retentionPayload,
  [JOBS.reconcile]: reconcilePayload,
  [JOBS.purgeInstallation]: purgeInstallationPayload,
  [JOBS.webhookHealth]: webhookHealthPayload,
  [JOBS.deadLetterSweep]: deadLetterSweepPayload,
} as const satisfies Record<JobName, z.ZodType>;

export type JobPayload<N extends JobName> = z.infer<(typeof JOB_PAYLOADS)[N]>;

export const LIFECYCLE_JOB: Readonly<Record<LifecycleType, JobName>> = {
  INSTALLED: JOBS.lifecycleInstalled,
  DELETED: JOBS.lifecycleDeleted,
  SETTINGS_UPDATED: JOBS.lifecycleSettingsUpdated,
  STATUS_CHANGED: JOBS.lifecycleStatusChanged,
};

/** Validates a payload read from a job; throws a readable error naming the job. */
export function parsePayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  const schema = JOB_PAYLOADS[name] as unknown as z.ZodType<JobPayload<N>>;
  const result = schema.safeParse(data);
  if (!result.success) {
    const detail = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new InvalidPayloadError(`invalid ${name} payload: ${detail}`);
  }
  return result.data;
}

export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';
}
