import { z } from 'zod';
import { DAY, ciphertext, defineQueueContract, id, sha256Hex } from './contract.js';

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

export const loadSettingsPayload = z.object({
  v: z.literal(1),
  workspaceId: id,
  addonId: id,
  /** Sequence of the INSTALLED that asked for it: a later reinstall makes this job stale. */
  seq: z.number().int().positive(),
});
export type LoadSettingsPayload = z.infer<typeof loadSettingsPayload>;

export const LIFECYCLE_JOBS = {
  lifecycleInstalled: 'lifecycle.installed',
  lifecycleDeleted: 'lifecycle.deleted',
  lifecycleSettingsUpdated: 'lifecycle.settings-updated',
  lifecycleStatusChanged: 'lifecycle.status-changed',
  /** After INSTALLED: read the installation's settings from Clockify (its stored defaults). */
  lifecycleLoadSettings: 'lifecycle.load-settings',
} as const;

/** The lifecycle queue: Clockify's four lifecycle events, and reading the settings after an install. */
export const lifecycleContract = defineQueueContract({
  queue: 'lifecycle',
  defaults: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    removeOnComplete: { age: DAY, count: 10_000 },
    removeOnFail: { age: 30 * DAY, count: 100_000 },
  },
  jobs: {
    [LIFECYCLE_JOBS.lifecycleInstalled]: installedPayload,
    [LIFECYCLE_JOBS.lifecycleDeleted]: deletedPayload,
    [LIFECYCLE_JOBS.lifecycleSettingsUpdated]: settingsUpdatedPayload,
    [LIFECYCLE_JOBS.lifecycleStatusChanged]: statusChangedPayload,
    [LIFECYCLE_JOBS.lifecycleLoadSettings]: loadSettingsPayload,
  },
});

/** The job of each lifecycle event. */
export const LIFECYCLE_JOB = {
  INSTALLED: LIFECYCLE_JOBS.lifecycleInstalled,
  DELETED: LIFECYCLE_JOBS.lifecycleDeleted,
  SETTINGS_UPDATED: LIFECYCLE_JOBS.lifecycleSettingsUpdated,
  STATUS_CHANGED: LIFECYCLE_JOBS.lifecycleStatusChanged,
} as const satisfies Record<LifecycleType, string>;
