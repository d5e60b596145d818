import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigIssue } from './define.js';
import { repoRoot } from './paths.js';
import { bool, derived, int, list, oneOf, optionalUrl, str, url } from './vars.js';

/** A file at the repository root that only the container images have (see infra/docker). */
export const CONTAINER_IMAGE_MARKER = '.container-image';

/**
 * Shared groups of variables. Each app composes its schema from these fragments plus its own
 * variables, so one variable means the same thing everywhere.
 */

export const runtimeVars = {
  NODE_ENV: oneOf(['development', 'production', 'test'] as const, {
    // An image whose orchestrator sets NODE_ENV to nothing must not fall back to the lax mode.
    default: () => (existsSync(join(repoRoot(), CONTAINER_IMAGE_MARKER)) ? 'production' : 'development'),
    defaultDoc: `\`development\`; \`production\` in the container images (marked by a \`${CONTAINER_IMAGE_MARKER}\` file at the root)`,
    description: 'Runtime mode. `production` makes `TOKEN_ENCRYPTION_KEY` mandatory and refuses unverified tokens.',
  }),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
    description: 'Minimum level of the logs written to stdout.',
  }),
  LOG_FORMAT: oneOf(['auto', 'json', 'pretty'] as const, {
    default: 'auto',
    description:
      '`auto`: pretty-printed (pino-pretty) when NODE_ENV=development and stdout is a terminal, JSON lines otherwise. `json` or `pretty` force one; production always writes JSON (`pretty` is refused there).',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: str({
    optional: true,
    expected: 'an http(s) URL of an OTLP/HTTP collector',
    pattern: /^https?:\/\/\S+$/,
    defaultDoc: 'unset: no traces',
    description:
      'Turns OpenTelemetry tracing on (spans for the ingress request, the enqueue, the job, each Clockify API call with its limiter wait, the commit) and sends them there over OTLP/HTTP. The other standard `OTEL_*` variables apply (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_SDK_DISABLED`).',
  }),
  DATA_DIR: derived({
    description:
      'Folder for local state: the embedded PGlite database and, outside production, the generated token encryption key.',
    compute: () => join(repoRoot(), '.data'),
    defaultDoc: '`.data` at the repository root',
  }),
  SHUTDOWN_TIMEOUT_MS: int({
    default: 8000,
    min: 100,
    max: 120_000,
    description:
      'Upper bound for a graceful shutdown after SIGTERM/SIGINT; keep it below the orchestrator grace period.',
  }),
};

/** The ingress's fail-fast Redis connection (workers retry forever instead). */
export const producerRedisVars = {
  REDIS_COMMAND_TIMEOUT_MS: int({
    default: 2000,
    min: 50,
    max: 60_000,
    description:
      'Command timeout of the fail-fast producer connection used on HTTP paths, so a stalled Redis becomes a 503 instead of a hang.',
  }),
};

export const redisVars = {
  REDIS_URL: str({
    default: 'redis://127.0.0.1:6379',
    // A redis:// or rediss:// URL, the sentinels of a monitored primary, or some nodes of a cluster
    // (see @cap/queue's connectRedis).
    pattern:
      /^rediss?:\/\/\S+$|^redis\+cluster:\/\/(?:[^@/\s]*@)?[^/@\s]+:\d+(?:,[^/@\s,]+:\d+)*\/?$|^redis\+sentinel:\/\/(?:[^@/\s]*@)?[^/@\s]+:\d+(?:,[^/@\s,]+:\d+)*\/[A-Za-z0-9_.-]+(?:\/\d+)?$/,
    expected:
      'a redis:// or rediss:// URL, redis+sentinel://[user:password@]host:port[,host:port…]/<master name>[/db], or redis+cluster://[user:password@]host:port[,host:port…]',
    secret: true,
    description:
      'Redis holding the BullMQ queues, the dedupe gates and the rate limiter. Run it with `noeviction` and AOF. Through Sentinel: `redis+sentinel://host:26379,host2:26379/mymaster` (the sentinels, then the name of the primary they monitor); the apps follow a failover. Redis Cluster: `redis+cluster://host:6379,host2:6379` (some of its nodes), with BULLMQ_PREFIX a hash tag such as `{cap}`.',
  }),
  BULLMQ_PREFIX: str({
    default: 'cap',
    pattern: /^[A-Za-z0-9_.:{}-]{1,64}$/,
    expected: '1–64 characters of letters, digits and `_.:{}-`',
    description: 'Prefix of every Redis key this platform writes (BullMQ `prefix`, gates, limiter, sequences).',
  }),
  REDIS_CONNECT_TIMEOUT_MS: int({
    default: 5000,
    min: 100,
    max: 120_000,
    description: 'How long start-up waits for Redis before it gives up with an explanation.',
  }),
};

/** Retry policy of webhook jobs; set where jobs are added (ingress, and workers for replays). */
export const jobVars = {
  WEBHOOK_JOB_ATTEMPTS: int({
    default: 8,
    min: 1,
    max: 100,
    description: 'Attempts of a webhook job (its handler) before it becomes a dead letter.',
  }),
  WEBHOOK_JOB_BACKOFF_MS: int({
    default: 2000,
    min: 10,
    max: 3_600_000,
    description: 'First retry delay of a webhook job; doubles each attempt, with jitter.',
  }),
};

export const databaseVars = {
  DATABASE_URL: optionalUrl({
    protocols: ['postgres', 'postgresql'],
    secret: true,
    defaultDoc: 'unset: embedded PGlite under `DATA_DIR` (ingress and worker in one process)',
    description: 'PostgreSQL connection string.',
  }),
  DATABASE_POOL_MAX: int({
    default: 10,
    min: 1,
    max: 500,
    description: 'Maximum connections in the Postgres pool of one process.',
  }),
  DATABASE_CONNECT_TIMEOUT_MS: int({
    default: 5000,
    min: 100,
    max: 120_000,
    description: 'Timeout for opening one Postgres connection.',
  }),
  DATABASE_PREPARED_STATEMENTS: bool({
    default: true,
    description:
      'Send the queries every webhook runs as named prepared statements (less Postgres CPU). Turn off behind a connection pooler in transaction mode that cannot keep them (e.g. PgBouncer before 1.21).',
  }),
  DATABASE_POOL_MODE: oneOf(['session', 'transaction'] as const, {
    default: 'session',
    description:
      '`transaction` behind a connection pooler in transaction mode (PgBouncer `pool_mode = transaction`): the statement timeout is set at the start of each transaction instead of as a startup parameter (PgBouncer refuses those), and prepared statements are off. Also give the database role a default (`ALTER ROLE … SET statement_timeout`) for single statements. `session` for Postgres itself or a pooler in session mode.',
  }),
  MIGRATE_ON_START: bool({
    default: true,
    description:
      'Apply pending migrations (the platform’s, then the add-on’s) when a process starts, under a lock. Set false where a migration Job runs them before a deploy (the Kubernetes manifests): a process then refuses to start while any is pending, naming them.',
  }),
};

const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

export const secretVars = {
  TOKEN_ENCRYPTION_KEY: str({
    optional: true,
    secret: true,
    pattern: BASE64_32,
    expected: 'base64 of 32 random bytes (`openssl rand -base64 32`)',
    defaultDoc: 'required in production; otherwise generated once into `DATA_DIR/token-encryption.key`',
    description: 'AES-256-GCM key that encrypts every Clockify token before it reaches Redis or Postgres.',
  }),
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: list({
    default: [],
    allowEmpty: true,
    item: BASE64_32,
    expected: 'a comma-separated list of base64 32-byte keys',
    secret: true,
    description: 'Older keys still accepted for decryption while ciphertexts are rotated to the current key.',
  }),
};

export function addonVars() {
  return {
    ADDON_KEY: str({
      optional: true,
      defaultDoc: "the add-on definition's `key`",
      pattern: /^[A-Za-z0-9._-]{2,50}$/,
      expected: '2–50 characters of letters, digits and `._-`',
      description: 'The add-on key: manifest `key` and the `sub` every Clockify token must carry.',
    }),
    BASE_URL: url({
      default: 'http://localhost:8080',
      protocols: ['http', 'https'],
      description: 'Public URL of the ingress; the manifest `baseUrl`.',
    }),
    MANIFEST_SCHEMA_VERSION: oneOf(['1.6', '1.5'] as const, {
      default: '1.6',
      description: 'Manifest schema version served and validated against the official schema file.',
    }),
  };
}

/** Verification of Clockify-signed tokens (ingress). */
export const clockifyAuthVars = {
  CLOCKIFY_PUBLIC_KEY: str({
    optional: true,
    expected: 'a PEM public key (`\\n` escapes allowed)',
    defaultDoc: "Clockify's published key (shipped)",
    description:
      'PEM of the key that signs Clockify tokens. Wins over `CLOCKIFY_PUBLIC_KEY_FILE`; a non-default key warns loudly.',
  }),
  CLOCKIFY_PUBLIC_KEY_FILE: str({
    optional: true,
    expected: 'a path to a PEM file',
    description: 'File holding the PEM key (used when `CLOCKIFY_PUBLIC_KEY` is unset).',
  }),
  CLOCKIFY_JWKS_URL: optionalUrl({
    protocols: ['https', 'http'],
    description:
      'Optional JWKS endpoint (jose remote JWKS) for tokens that carry a `kid`; tokens without `kid` still use the static key. http only for loopback hosts.',
  }),
  REQUIRE_SIGNATURE_VERIFICATION: bool({
    default: true,
    description:
      '`false` is for local experiments only: the ingress skips signature checks (jobs marked unverified) and workers process such jobs; workers left at `true` refuse them. Refused in production.',
  }),
};

/** Calls to the Clockify REST API (worker). */
export const clockifyApiVars = {
  CLOCKIFY_API_ALLOWED_HOSTS: list({
    default: ['*.clockify.me'],
    item: /^(\*\.)?[A-Za-z0-9.-]+(:\d+)?$/,
    expected: 'comma-separated hosts; `*.x` matches any depth below x, an exact host only itself',
    description:
      'Hosts the installation token may be sent to. `*.x` matches any depth below x; an exact host only itself; http only for loopback hosts.',
  }),
  CLOCKIFY_RATE_LIMIT_RPS: int({
    default: 50,
    min: 1,
    max: 10_000,
    description: 'Requests per second per workspace to the Clockify API, shared by every process (GCRA in Redis).',
  }),
  CLOCKIFY_API_TIMEOUT_MS: int({
    default: 15_000,
    min: 100,
    max: 300_000,
    description: 'Timeout of one Clockify API request.',
  }),
  CLOCKIFY_API_MAX_RETRIES: int({
    default: 4,
    min: 0,
    max: 20,
    description:
      'Retries of a Clockify API request after a network error, a timeout, a 408 or a 5xx (exponential backoff with jitter), and after a 429 whose Retry-After is within the limiter wait bound.',
  }),
};

/** Forwarding of Clockify events to other endpoints (ingress: rule checks; worker: delivery). */
export const forwardingVars = {
  FORWARDING_ALLOWED_HOSTS: list({
    default: [],
    allowEmpty: true,
    item: /^(\*\.)?[A-Za-z0-9.-]+$/,
    expected: 'comma-separated host names; `*.x` matches any depth below x',
    description:
      'Forwarding destinations exempt from the address check (loopback, private, link-local and metadata addresses are refused otherwise); an allow-listed loopback host may use http. For tests and private deployments.',
  }),
};

/** Rules shared by every app that loads the secret and Clockify fragments. */
export function productionRules(config: {
  NODE_ENV: string;
  LOG_FORMAT?: string;
  TOKEN_ENCRYPTION_KEY?: string | undefined;
  REQUIRE_SIGNATURE_VERIFICATION?: boolean;
}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.NODE_ENV === 'production' && config.LOG_FORMAT === 'pretty') {
    issues.push({
      variable: 'LOG_FORMAT',
      message: 'cannot be pretty when NODE_ENV=production: log shippers read JSON',
    });
  }
  if (config.NODE_ENV === 'production' && !config.TOKEN_ENCRYPTION_KEY) {
    issues.push({
      variable: 'TOKEN_ENCRYPTION_KEY',
      message: 'is required when NODE_ENV=production: expected base64 of 32 random bytes (`openssl rand -base64 32`)',
    });
  }
  if (config.NODE_ENV === 'production' && config.REQUIRE_SIGNATURE_VERIFICATION === false) {
    issues.push({
      variable: 'REQUIRE_SIGNATURE_VERIFICATION',
      message: 'cannot be false when NODE_ENV=production',
    });
  }
  return issues;
}

export function jwksRule(config: { CLOCKIFY_JWKS_URL?: string | undefined }): ConfigIssue[] {
  if (!config.CLOCKIFY_JWKS_URL) return [];
  const u = new URL(config.CLOCKIFY_JWKS_URL);
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    return [{ variable: 'CLOCKIFY_JWKS_URL', message: 'http is only allowed for loopback hosts; use https' }];
  }
  return [];
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
