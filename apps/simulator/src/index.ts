export { createSimulator, Simulator, MUTATIONS } from './simulator.js';
export type {
  SimulatorOptions,
  InstallOptions,
  LifecycleResult,
  TargetOptions,
  SendWebhookOptions,
  WebhookDelivery,
  ChangeDelivery,
  MutationResult,
  Mutations,
} from './simulator.js';

export { createMockApi, errorBody, LAST_PAGE_OMITTED_OPERATIONS } from './api/server.js';
export type { MockApi, MockApiOptions } from './api/server.js';
export { OperationIndex, validateQuery, requiredScope } from './api/spec.js';
export type { OperationSpec, ParamSpec, OperationMatch, HttpMethod } from './api/spec.js';
export { SlidingWindowLimiter } from './api/rate-limit.js';
export type { RateLimitOptions } from './api/rate-limit.js';
export { RequestStats } from './api/stats.js';
export type { StatsSnapshot, WorkspaceStats, RequestRecord } from './api/stats.js';
export { FaultInjector, MAX_LATENCY_MS } from './api/faults.js';
export type { OperationFault } from './api/faults.js';
export { TokenAuthenticator } from './api/auth.js';
export type { ApiTokenClaims } from './api/auth.js';
export type { AddonHooks } from './api/handlers.js';

export { MockStore, StoreError } from './store/store.js';
export type {
  StoreChange,
  EntityKind,
  MockStoreOptions,
  HydratedTimeEntry,
  TimeEntryInput,
  UserQuery,
  NamedQuery,
  ProjectQuery,
  TaskQuery,
  TagQuery,
  CustomFieldQuery,
  TimeEntryQuery,
} from './store/store.js';
export { DEFAULT_SIZES, MAX_SIZES } from './store/types.js';
export type * from './store/types.js';
export { isoDuration, isoInstant, parseIsoDuration } from './store/format.js';

export {
  loadOrCreateKeys,
  defaultDataDir,
  simulatorDir,
  publicKeyPath,
  PUBLIC_KEY_FILE,
  PRIVATE_KEY_FILE,
} from './keys.js';
export type { SimulatorKeys } from './keys.js';
export { InstallationRegistry, tokenHash } from './installations.js';
export type {
  Installation,
  InstallationStatus,
  ManifestInfo,
  SettingValue,
  PathStyle,
  LifecycleClaims,
} from './installations.js';
export { parseManifest, flattenSettings, joinUrl } from './manifest.js';
export {
  signInstallationToken,
  signUserToken,
  signWebhookToken,
  signLifecycleToken,
  environmentFor,
} from './tokens.js';
export type { TokenSubject } from './tokens.js';

export { buildWebhookBody, webhookBodyForChange } from './webhooks/bodies.js';
export type { WebhookBody, WebhookBuildContext } from './webhooks/bodies.js';
export { randomChange, MUTABLE_EVENTS } from './webhooks/random-change.js';
export { arrangeBurst, runBurst, MAX_BURST } from './webhooks/burst.js';
export type { BurstOptions, BurstReport, BurstDelivery, PlannedDelivery } from './webhooks/burst.js';
export type { DeliveryResult } from './http.js';
export { Rng, objectId, OBJECT_ID } from './random.js';
export {
  expectedMirror,
  snapshotFromRows,
  diffMirror,
  entityFingerprint,
  mirrorsBody,
  ALL_ACCOUNT_STATUSES as MIRROR_ACCOUNT_STATUSES,
} from './mirror.js';
export type { MirrorSnapshot, MirrorWindow, MirrorDiff } from './mirror.js';
