import {
  addonVars,
  bool,
  clockifyAuthVars,
  clockifyApiVars,
  forwardingVars,
  databaseVars,
  defineEnv,
  int,
  jobVars,
  jwksRule,
  list,
  producerRedisVars,
  productionRules,
  redisVars,
  runtimeVars,
  secretVars,
  str,
  type ConfigIssue,
  type ConfigOf,
} from '@cap/config';

export const ingressVars = {
  ...runtimeVars,
  PORT: int({ default: 8080, min: 0, max: 65535, description: 'HTTP port of the ingress (0 picks a free port).' }),
  INGRESS_OPS_PORT: int({
    default: 8082,
    min: 0,
    max: 65535,
    description:
      'Ops port of the ingress: `/health`, `/ready` with check detail, `/metrics` (0 picks a free port). The public port keeps `/health` and a `/ready` without detail.',
  }),
  ...addonVars(),
  ...redisVars,
  ...producerRedisVars,
  ...jobVars,
  ...databaseVars,
  ...secretVars,
  ...clockifyAuthVars,
  // The admin API's Clockify calls (POST /admin/api/workspaces/:id/clockify).
  ...clockifyApiVars,
  ...forwardingVars,
  WEBHOOK_DEDUPE_WINDOW_SECONDS: int({
    default: 300,
    min: 1,
    max: 86_400,
    description: 'Identical webhook content (same workspace, event and body) inside this window is a duplicate.',
  }),
  WEBHOOK_MAX_BODY_BYTES: int({
    // PROJECT_* bodies embed every task: a project of 5,000 tasks is about 2.2 MB (447 bytes a
    // task with rates, assignees and groups, measured). A refused body is an event lost for good.
    default: 4 * 1024 * 1024,
    min: 1024,
    max: 32 * 1024 * 1024,
    description:
      'Largest webhook or lifecycle body accepted; larger requests get 413 without being buffered. The default takes a PROJECT_* body embedding 5,000 tasks (about 2.2 MB).',
  }),
  INGRESS_MAX_JSON_DEPTH: int({
    default: 64,
    min: 1,
    max: 1000,
    description:
      'Deepest nesting of arrays and objects accepted in a webhook or lifecycle body; deeper bodies get 400 and never reach a queue.',
  }),
  INGRESS_MAX_QUEUE_DEPTH: int({
    default: 100_000,
    min: 0,
    description:
      'Webhook jobs still to do (waiting, delayed and prioritized) above which the ingress sheds load with 503 + Retry-After (0 disables).',
  }),
  REDIS_DURABLE_ACK_TIMEOUT_MS: int({
    default: 3000,
    min: 100,
    max: 60_000,
    description:
      'How long a 2xx waits for Redis to confirm the job is durable (WAITAOF with AOF on Redis ≥ 7.2, WAIT for a replica otherwise); unconfirmed in time, the call gets 503. Lifecycle calls always wait when Redis can confirm; webhooks only with WEBHOOK_DURABLE_ACK.',
  }),
  WEBHOOK_DURABLE_ACK: bool({
    default: false,
    description:
      'Answer a webhook 200 only once Redis confirmed its job durable, as lifecycle calls are (costs up to one AOF fsync interval of latency per webhook; see bench/ingress).',
  }),
  INGRESS_SHED_WORKSPACE_BACKLOG: int({
    default: 1000,
    min: 0,
    description:
      'Above half of INGRESS_MAX_QUEUE_DEPTH, a workspace with more than this many webhooks queued ahead of its fair turn gets 503 + Retry-After while the other workspaces are still accepted (a flooding workspace is shed first).',
  }),
  ADMIN_USERNAME: str({
    optional: true,
    expected: 'a user name',
    defaultDoc: 'unset: Bull Board and the admin API answer 404',
    description: 'User name for HTTP basic auth on `/admin/queues` (Bull Board) and `/admin/api`.',
  }),
  ADMIN_PASSWORD: str({
    optional: true,
    secret: true,
    expected: 'a password of at least 12 characters',
    pattern: /^.{12,}$/,
    defaultDoc: 'unset: Bull Board and the admin API answer 404',
    description: 'Password for the admin surface (with `ADMIN_USERNAME`).',
  }),
  ADMIN_LOGIN_MAX_FAILURES: int({
    default: 10,
    min: 1,
    max: 10_000,
    description:
      'Failed admin logins a client (by address, see TRUST_PROXY) may make per ADMIN_LOGIN_WINDOW_SECONDS; then 429 + Retry-After until the window ends.',
  }),
  ADMIN_LOGIN_WINDOW_SECONDS: int({
    default: 300,
    min: 1,
    max: 86_400,
    description: 'The window of ADMIN_LOGIN_MAX_FAILURES.',
  }),
  ADMIN_BULL_BOARD_WRITE: bool({
    default: false,
    description: 'Allow retry/remove/promote actions in Bull Board; read-only otherwise.',
  }),
  TRUST_PROXY: str({
    default: 'false',
    pattern: /^(true|false|\d{1,2}|[0-9a-fA-F.:/,\s]+|loopback|linklocal|uniquelocal)$/,
    expected: '`false`, `true`, a hop count, or a comma-separated list of proxy addresses/subnets',
    description: 'Which proxies to trust for the client address and protocol (express `trust proxy`).',
  }),
  UI_FRAME_ANCESTORS: list({
    default: [],
    allowEmpty: true,
    item: /^https:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d+)?$/,
    expected: 'comma-separated https origins, e.g. `https://app.example.com`',
    description: 'Origins allowed to frame the UI components besides `https://*.clockify.me`.',
  }),
};

function adminRule(config: {
  ADMIN_USERNAME?: string | undefined;
  ADMIN_PASSWORD?: string | undefined;
}): ConfigIssue[] {
  if (Boolean(config.ADMIN_USERNAME) !== Boolean(config.ADMIN_PASSWORD)) {
    return [
      {
        variable: config.ADMIN_USERNAME ? 'ADMIN_PASSWORD' : 'ADMIN_USERNAME',
        message:
          'ADMIN_USERNAME and ADMIN_PASSWORD must be set together (or both left unset to turn the admin surface off)',
      },
    ];
  }
  return [];
}

function opsPortRule(config: { PORT: number; INGRESS_OPS_PORT: number }): ConfigIssue[] {
  if (config.INGRESS_OPS_PORT !== 0 && config.INGRESS_OPS_PORT === config.PORT) {
    return [
      {
        variable: 'INGRESS_OPS_PORT',
        message: `must differ from PORT (both are ${config.PORT}): the ops endpoints are kept off the public port`,
      },
    ];
  }
  return [];
}

export const ingressEnv = defineEnv('ingress', ingressVars, [productionRules, jwksRule, adminRule, opsPortRule]);
export type IngressConfig = ConfigOf<typeof ingressVars>;

/** The express `trust proxy` value for TRUST_PROXY. */
export function trustProxySetting(value: string): boolean | number | string[] {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
