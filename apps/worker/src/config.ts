import {
  bool,
  clockifyApiVars,
  clockifyAuthVars,
  databaseVars,
  defineEnv,
  int,
  jobVars,
  list,
  productionRules,
  redisVars,
  runtimeVars,
  secretVars,
  str,
  type ConfigOf,
} from '@cap/config';
import { QUEUE_NAMES } from '@cap/queue';

const CRON = /^(off|(\S+\s+){4}\S+)$/;

export const workerVars = {
  ...runtimeVars,
  WORKER_PORT: int({
    default: 8081,
    min: 0,
    max: 65535,
    description: 'Port of the worker ops server (/health, /ready, /metrics; 0 picks a free port).',
  }),
  ...redisVars,
  ...jobVars,
  ...databaseVars,
  ...secretVars,
  ...clockifyApiVars,
  REQUIRE_SIGNATURE_VERIFICATION: clockifyAuthVars.REQUIRE_SIGNATURE_VERIFICATION,
  WORKER_QUEUES: list({
    default: [...QUEUE_NAMES],
    item: new RegExp(`^(${QUEUE_NAMES.join('|')})$`),
    expected: `a comma-separated subset of ${QUEUE_NAMES.join(', ')}`,
    description: 'Queues this process consumes; run specialised pools by giving each a subset.',
  }),
  WORKER_CONCURRENCY_LIFECYCLE: int({
    default: 4,
    min: 1,
    max: 1000,
    description: 'Concurrent lifecycle jobs per process.',
  }),
  WORKER_CONCURRENCY_WEBHOOKS: int({
    default: 128,
    min: 1,
    max: 1000,
    description:
      'Concurrent webhook jobs per process. Jobs mostly wait on Postgres; the ones waiting together commit in shared transactions (WEBHOOK_COMMIT_GROUP_MAX).',
  }),
  WORKER_CONCURRENCY_BOOTSTRAP: int({
    default: 4,
    min: 1,
    max: 1000,
    description: 'Concurrent bootstrap jobs per process.',
  }),
  WORKER_CONCURRENCY_MAINTENANCE: int({
    default: 1,
    min: 1,
    max: 100,
    description: 'Concurrent maintenance jobs per process.',
  }),
  WORKER_LOCK_DURATION_MS: int({
    default: 30_000,
    min: 1000,
    max: 600_000,
    description: 'BullMQ job lock duration; a worker that stops renewing it (killed) loses the job after this.',
  }),
  WORKER_STALLED_INTERVAL_MS: int({
    default: 30_000,
    min: 500,
    max: 600_000,
    description: 'How often BullMQ looks for stalled jobs (locks expired) to hand them to another worker.',
  }),
  WORKER_MAX_STALLED_COUNT: int({
    default: 2,
    min: 1,
    max: 100,
    description: 'Times a job may stall (its worker died) before it fails for good.',
  }),
  CLOCKIFY_EARLY_401_WINDOW_MS: int({
    default: 600_000,
    min: 0,
    max: 86_400_000,
    description:
      'How long after an install a 401 from Clockify is taken for a token not usable yet and retried (CLOCKIFY_EARLY_401_RETRIES) instead of failing the bootstrap resource or settings read.',
  }),
  CLOCKIFY_EARLY_401_RETRIES: int({
    default: 5,
    min: 0,
    max: 20,
    description: 'Retries of an early 401 (see CLOCKIFY_EARLY_401_WINDOW_MS), each after twice the previous delay.',
  }),
  CLOCKIFY_EARLY_401_BACKOFF_MS: int({
    default: 2000,
    min: 10,
    max: 600_000,
    description: 'First delay before an early 401 is retried; doubles each time.',
  }),
  INFRA_RETRY_BASE_MS: int({
    default: 1000,
    min: 10,
    max: 60_000,
    description:
      'First wait of a job that met an infrastructure error (Postgres or Redis unreachable, a pool timeout, a deadlock): it waits, doubling up to INFRA_RETRY_MAX_MS, as long as the outage lasts, without spending an attempt.',
  }),
  INFRA_RETRY_MAX_MS: int({
    default: 30_000,
    min: 10,
    max: 600_000,
    description: 'Longest wait between two tries of a job held up by an infrastructure error.',
  }),
  AUTO_BOOTSTRAP: bool({ default: true, description: 'Start a bootstrap of the workspace data after INSTALLED.' }),
  BOOTSTRAP_TIME_ENTRY_DAYS: int({
    default: 30,
    min: 0,
    max: 3650,
    description: 'How many days of time entries (per user) a bootstrap fetches.',
  }),
  BOOTSTRAP_PAGE_SIZE: int({ default: 200, min: 1, max: 200, description: 'Page size of bootstrap list requests.' }),
  BOOTSTRAP_MAX_PAGES: int({
    default: 10_000,
    min: 1,
    description: 'Cap on pages per resource listing, a guard against a server that never says last page.',
  }),
  BOOTSTRAP_LIMITER_MAX_WAIT_MS: int({
    default: 1000,
    min: 0,
    max: 60_000,
    description:
      'Longest rate-limiter wait a bootstrap job sleeps through; longer waits re-schedule the job and free the slot.',
  }),
  BOOTSTRAP_PAUSE_AFTER_MS: int({
    default: 60_000,
    min: 1000,
    description: 'A rate limit (Retry-After) longer than this marks the bootstrap run PAUSED until it resumes.',
  }),
  RECONCILE_CRON: str({
    default: '17 3 * * *',
    pattern: CRON,
    expected: 'a 5-field cron expression (UTC) or `off`',
    description: 'When to re-run a bootstrap for every ACTIVE workspace, healing what webhooks missed.',
  }),
  RECONCILE_SPREAD_HOURS: int({
    default: 24,
    min: 0,
    max: 168,
    description:
      'Hours over which a reconciliation spreads the workspaces’ bootstraps (each at a fixed offset from a hash of its ids); 0 starts them all at once.',
  }),
  RETENTION_CRON: str({
    default: '7 * * * *',
    pattern: CRON,
    expected: 'a 5-field cron expression (UTC) or `off`',
    description:
      'When retention runs: drop old webhook_events partitions, create upcoming ones, purge uninstalled workspaces.',
  }),
  DEAD_LETTER_SWEEP_CRON: str({
    default: '* * * * *',
    pattern: CRON,
    expected: 'a 5-field cron expression (UTC) or `off`',
    description:
      'How often failed jobs are moved into dead_letters (those whose dead letter could not be written when they failed, e.g. Postgres down) and removed from Redis.',
  }),
  WEBHOOK_HEALTH_CRON: str({
    default: '*/5 * * * *',
    pattern: CRON,
    expected: 'a 5-field cron expression (UTC) or `off`',
    description:
      'How often to look for installations whose webhooks are due for a check with Clockify (is delivery still enabled?).',
  }),
  WEBHOOK_HEALTH_INTERVAL_MINUTES: int({
    default: 60,
    min: 1,
    max: 10_080,
    description: 'How often each installation’s webhooks are checked with Clockify (spread over this interval).',
  }),
  WEBHOOK_HEALTH_BATCH: int({
    default: 50,
    min: 1,
    max: 10_000,
    description: 'Installations checked per run at most (the rest are checked in the next runs).',
  }),
  WEBHOOK_EVENT_RETENTION_DAYS: int({
    default: 30,
    min: 1,
    max: 3650,
    description: 'Days of webhook_events kept (whole day partitions are dropped).',
  }),
  DEAD_LETTER_RETENTION_DAYS: int({
    default: 30,
    min: 1,
    max: 3650,
    description: 'Days a dead letter (an exhausted job, without tokens) is kept for inspection and replay.',
  }),
  BOOTSTRAP_RUN_RETENTION_DAYS: int({
    default: 30,
    min: 1,
    max: 3650,
    description: 'Days finished bootstrap runs (progress records) are kept.',
  }),
  LIFECYCLE_RECEIPT_RETENTION_DAYS: int({
    default: 90,
    min: 30,
    max: 3650,
    description:
      'Days a decided lifecycle call is remembered (a hash of its token and body), so the same call replayed later is ignored.',
  }),
  API_CALL_AUDIT_RETENTION_DAYS: int({
    default: 90,
    min: 1,
    max: 3650,
    description:
      'Days a recorded Clockify API call of an operator or a workspace admin (api_call_audit: who, what, outcome, redacted bodies) is kept.',
  }),
  DATA_RETENTION_DAYS_AFTER_UNINSTALL: int({
    default: 30,
    min: 0,
    max: 3650,
    description: 'Days a workspace’s data is kept after DELETED before it is purged (unless reinstalled).',
  }),
  WEBHOOK_INSTALL_WAIT_MS: int({
    default: 5000,
    min: 100,
    max: 600_000,
    description: 'Delay between checks when a webhook arrives before its INSTALLED has been applied.',
  }),
  WEBHOOK_COMMIT_GROUP_MAX: int({
    default: 32,
    min: 1,
    max: 256,
    description:
      'Webhook deliveries that may commit in one Postgres transaction (group commit; each keeps its claim and its handler effects together). 1 gives every delivery a transaction of its own.',
  }),
  WEBHOOK_COMMIT_GROUPS: int({
    default: 2,
    min: 1,
    max: 64,
    description: 'Groups of webhook deliveries committing at once per process (each holds a pool connection).',
  }),
  WEBHOOK_ORPHAN_AFTER_MS: int({
    default: 600_000,
    min: 1000,
    description:
      'How long a webhook (recorded as orphaned after it) or a STATUS_CHANGED/SETTINGS_UPDATED event (failed into the dead letters after it) waits for its installation.',
  }),
};

export const workerEnv = defineEnv('worker', workerVars, [productionRules]);
export type WorkerConfig = ConfigOf<typeof workerVars>;
