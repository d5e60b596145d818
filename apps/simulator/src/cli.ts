import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isWebhookEventName, WEBHOOK_EVENT_NAMES, type WebhookEventName } from '@cap/clockify';
import { defineEnv, loadConfigOrExit, runtimeVars } from '@cap/config';
import { createLogger } from '@cap/observability';
import { CONTROL_TOKEN_HEADER } from './api/server.js';
import { runBurst, runWebhook, type BurstCommand, type CommandResult, type WebhookCommand } from './commands.js';
import { loadOrCreateKeys, simulatorDir } from './keys.js';
import { createSimulator, type LifecycleResult } from './simulator.js';
import type { WorkspaceSizes, WorkspaceSpec } from './store/types.js';

/**
 * `sim <command>`: the simulator from a shell. State (keys, installations, the running mock's
 * address and seed) lives under `<DATA_DIR>/simulator`, so `serve` in one terminal and
 * `install`, `webhook`, `burst`, `uninstall` in another work together.
 */

const USAGE = `Usage: sim <command> [options]

Commands:
  serve       Start the mock Clockify API
                --port 8090 --host 127.0.0.1 --seed <s> --workspaces <n> --workspace <id>
                --users --user-groups --clients --projects --tasks-per-project --tags
                --custom-fields --entries --days --running  (workspace sizes)
                --rate-limit 50 (requests per second per workspace; 0 = off)
  install     Install an add-on: fetch its manifest and send INSTALLED
                --ingress http://localhost:8080 [--workspace <id>] [--path-style relative|full]
                [--lifecycle-claims with-workspace|without-workspace] [--deliver-to <url>]
                [--manifest <file>]
  uninstall   Send DELETED and revoke the installation's tokens      [--workspace <id>]
  settings    Send SETTINGS_UPDATED   [--set id=value ...] [--workspace <id>]
  status      Send STATUS_CHANGED     ACTIVE|INACTIVE [--workspace <id>]
  webhook     Send one webhook        <EVENT> [--workspace <id>] [--no-mutate] [--body <file>]
  burst       Send many webhooks      --count 1000 [--rate 200] [--duplicates 0.1] [--reorder]
                [--reorder-window 10] [--events A,B] [--concurrency 64] [--no-mutate] [--workspace <id>]
              Both run inside the running \`sim serve\`, so the mock's data changes with the
              webhooks; without one (or with --local) they change a copy rebuilt from the seed.
  keys        Print where the simulator's key pair is
  state       Show the running mock and the installations

Global options: --data-dir <dir> (default DATA_DIR), --api-url <url>, --local, --json, --help
`;

interface ServerState {
  readonly url: string;
  readonly reportsUrl: string;
  readonly origin: string;
  readonly pid: number;
  readonly seed: string;
  readonly nowMs: number;
  readonly workspaces: readonly WorkspaceSpec[];
  readonly startedAt: string;
  /** Lets the CLI run `webhook` and `burst` inside this server (the file is mode 0600). */
  readonly controlToken?: string;
}

class UsageError extends Error {}

const SIZE_FLAGS: Record<string, keyof WorkspaceSizes> = {
  users: 'users',
  'user-groups': 'userGroups',
  clients: 'clients',
  projects: 'projects',
  'tasks-per-project': 'tasksPerProject',
  tags: 'tags',
  'custom-fields': 'customFields',
  entries: 'entries',
  days: 'days',
  running: 'runningTimers',
};

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'data-dir': { type: 'string' },
  'api-url': { type: 'string' },
  local: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  seed: { type: 'string' },
  workspaces: { type: 'string' },
  workspace: { type: 'string' },
  'rate-limit': { type: 'string' },
  ingress: { type: 'string' },
  'path-style': { type: 'string' },
  'lifecycle-claims': { type: 'string' },
  'deliver-to': { type: 'string' },
  manifest: { type: 'string' },
  set: { type: 'string', multiple: true },
  'no-mutate': { type: 'boolean' },
  body: { type: 'string' },
  count: { type: 'string' },
  rate: { type: 'string' },
  duplicates: { type: 'string' },
  reorder: { type: 'boolean' },
  'reorder-window': { type: 'string' },
  events: { type: 'string' },
  concurrency: { type: 'string' },
  ...Object.fromEntries(Object.keys(SIZE_FLAGS).map((k) => [k, { type: 'string' }])),
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

async function main(argv: string[]): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }) as {
      values: Values;
      positionals: string[];
    };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 1;
  }
  const env = loadConfigOrExit(
    defineEnv('simulator', { DATA_DIR: runtimeVars.DATA_DIR, LOG_LEVEL: runtimeVars.LOG_LEVEL }),
  );
  const dataDir = str(values['data-dir']) ?? env.DATA_DIR;
  const json = values.json === true;
  const out = (human: string, machine: unknown) => {
    if (json) process.stdout.write(`${JSON.stringify(machine)}\n`);
    else if (human) process.stdout.write(`${human}\n`);
  };

  switch (command) {
    case 'serve':
      return serve(values, dataDir, env.LOG_LEVEL, out);
    case 'keys': {
      const keys = await loadOrCreateKeys(dataDir);
      out(
        `public key:  ${keys.publicKeyPath}\nprivate key: ${keys.privateKeyPath}\nfingerprint: ${keys.fingerprint}\n\nPoint the add-on at it:\n  CLOCKIFY_PUBLIC_KEY_FILE=${keys.publicKeyPath}`,
        {
          publicKeyPath: keys.publicKeyPath,
          privateKeyPath: keys.privateKeyPath,
          fingerprint: keys.fingerprint,
        },
      );
      return 0;
    }
    case 'state':
      return state(dataDir, out);
    case 'install':
    case 'uninstall':
    case 'settings':
    case 'status':
    case 'webhook':
    case 'burst':
      break;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }

  const server = readServerState(dataDir);
  const target = str(values.workspace) ? { workspaceId: str(values.workspace) as string } : {};
  // webhook/burst change the store: run them where the mock's store is, when a serve is running.
  const forward =
    (command === 'webhook' || command === 'burst') &&
    values.local !== true &&
    !str(values['api-url']) &&
    server?.controlToken !== undefined &&
    alive(server.pid);
  if (forward) {
    const input = command === 'webhook' ? webhookCommand(rest[0], values, target) : burstCommand(values, target);
    const result = await runOnServer(server, command, input);
    out(result.human, result.machine);
    return result.code;
  }
  const apiUrl = str(values['api-url']) ?? server?.url;
  if (!apiUrl) throw new Error(`no mock API known: start \`sim serve\` (with the same --data-dir) or pass --api-url`);
  if (server && !str(values['api-url']) && !alive(server.pid)) {
    process.stderr.write(
      `warning: the \`sim serve\` that wrote ${serverStatePath(dataDir)} (pid ${server.pid}) is not running\n`,
    );
  }
  const sim = await createSimulator({
    dataDir,
    persistState: true,
    serve: false,
    apiUrl,
    ...(server
      ? { reportsUrl: server.reportsUrl, seed: server.seed, nowMs: server.nowMs, workspaces: server.workspaces }
      : {}),
  });
  if (command === 'webhook' || command === 'burst') {
    process.stderr.write(
      `note: ${values.local === true ? '--local' : 'no running `sim serve` takes commands here'}: the webhooks reflect changes to a local copy of the mock's data\n`,
    );
  }
  try {
    switch (command) {
      case 'install': {
        const manifestFile = str(values.manifest);
        const pathStyle = oneOf(values['path-style'], ['relative', 'full'] as const, 'path-style');
        const claims = oneOf(
          values['lifecycle-claims'],
          ['with-workspace', 'without-workspace'] as const,
          'lifecycle-claims',
        );
        const ingressUrl = str(values.ingress);
        if (!ingressUrl && !manifestFile) throw new UsageError('install needs --ingress <url> (or --manifest <file>)');
        const result = await sim.install({
          ...(ingressUrl ? { ingressUrl } : {}),
          ...(manifestFile ? { manifest: JSON.parse(readFileSync(manifestFile, 'utf8')) as unknown } : {}),
          ...target,
          ...(pathStyle ? { pathStyle } : {}),
          ...(claims ? { lifecycleClaims: claims } : {}),
          ...(str(values['deliver-to']) ? { deliveryBaseUrl: str(values['deliver-to']) as string } : {}),
        });
        return lifecycleOutcome(
          result,
          out,
          `Installed ${result.installation.addonKey} on workspace ${result.installation.workspaceId} (addonId ${result.installation.addonId}, ${result.installation.manifest.webhooks.length} webhooks)`,
        );
      }
      case 'uninstall': {
        const result = await sim.uninstall(target);
        return lifecycleOutcome(
          result,
          out,
          `Uninstalled ${result.installation.addonKey} from workspace ${result.installation.workspaceId}; its tokens are revoked`,
        );
      }
      case 'settings': {
        const changes: Record<string, unknown> = {};
        for (const pair of (values.set as string[] | undefined) ?? []) {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new UsageError(`--set expects id=value, got "${pair}"`);
          changes[pair.slice(0, eq)] = parseValue(pair.slice(eq + 1));
        }
        const result = await sim.updateSettings(changes, target);
        return lifecycleOutcome(
          result,
          out,
          `Sent SETTINGS_UPDATED with ${(result.payload.settings as unknown[]).length} settings`,
        );
      }
      case 'status': {
        const status = rest[0];
        if (status !== 'ACTIVE' && status !== 'INACTIVE') throw new UsageError('status needs ACTIVE or INACTIVE');
        const result = await sim.setStatus(status, target);
        return lifecycleOutcome(result, out, `Sent STATUS_CHANGED ${status}`);
      }
      case 'webhook':
      case 'burst': {
        const result =
          command === 'webhook'
            ? await runWebhook(sim, webhookCommand(rest[0], values, target))
            : await runBurst(sim, burstCommand(values, target));
        out(result.human, result.machine);
        return result.code;
      }
    }
  } finally {
    await sim.close();
  }
  return 0;
}

async function serve(
  values: Values,
  dataDir: string,
  level: string,
  out: (h: string, m: unknown) => void,
): Promise<number> {
  const port = int(values.port, 'port', 0, 65_535) ?? 8090;
  const host = str(values.host) ?? '127.0.0.1';
  const seed = str(values.seed) ?? 'clockify-simulator';
  const count = int(values.workspaces, 'workspaces', 1, 100) ?? 1;
  const sizes: Partial<Record<keyof WorkspaceSizes, number>> = {};
  for (const [flag, key] of Object.entries(SIZE_FLAGS)) {
    const v = int(values[flag], flag, 0, Number.MAX_SAFE_INTEGER);
    if (v !== undefined) sizes[key] = v;
  }
  const fixedId = str(values.workspace);
  const workspaces: WorkspaceSpec[] = Array.from({ length: count }, (_, i) => ({
    ...(i === 0 && fixedId ? { id: fixedId } : {}),
    sizes,
  }));
  const rateLimit = int(values['rate-limit'], 'rate-limit', 0, 100_000);
  const nowMs = Date.now();
  const controlToken = randomBytes(24).toString('base64url');
  // Logs go to stderr so stdout carries only the command's output (and stays parseable with --json).
  const logger = createLogger({ name: 'simulator', level }, process.stderr);
  const sim = await createSimulator({
    dataDir,
    persistState: true,
    port,
    host,
    seed,
    nowMs,
    workspaces,
    logger,
    controlToken,
    ...(rateLimit === 0
      ? { rateLimit: false as const }
      : rateLimit !== undefined
        ? { rateLimit: { limit: rateLimit } }
        : {}),
  });
  const api = sim.api;
  if (!api) throw new Error('the mock API did not start');
  const state: ServerState = {
    url: api.url,
    reportsUrl: api.reportsUrl,
    origin: api.origin,
    pid: process.pid,
    seed,
    nowMs,
    workspaces,
    startedAt: new Date().toISOString(),
    controlToken,
  };
  writeServerState(dataDir, state);
  const summaries = sim.store.workspaceIds().map((id) => sim.store.summary(id));
  out(
    [
      `Mock Clockify API listening at ${api.url}`,
      ...summaries.map(
        (s) =>
          `  workspace ${s.id} "${s.name}": ${s.users} users, ${s.projects} projects, ${s.tasks} tasks, ${s.timeEntries} time entries (${s.runningTimers} running)`,
      ),
      `  rate limit: ${api.rateLimiter ? `${api.rateLimiter.limit} requests per second per workspace` : 'off'}`,
      `  stats: ${api.origin}/_sim/stats   faults: ${api.origin}/_sim/faults`,
      `  public key: ${sim.publicKeyPath}`,
      '',
      `Point the add-on at it:  CLOCKIFY_PUBLIC_KEY_FILE=${sim.publicKeyPath}  CLOCKIFY_API_ALLOWED_HOSTS=${new URL(api.url).host}`,
      'Then, in another terminal:  npm run sim -w @cap/simulator -- install --ingress http://localhost:8080',
    ].join('\n'),
    { ...publicState(state), publicKeyPath: sim.publicKeyPath, workspaces: summaries },
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sim.close();
  return 0;
}

function webhookCommand(
  eventArg: string | undefined,
  values: Values,
  target: { workspaceId?: string },
): WebhookCommand {
  const bodyFile = str(values.body);
  return {
    event: eventName(eventArg),
    ...target,
    ...(bodyFile ? { body: readFileSync(bodyFile, 'utf8') } : {}),
    mutate: values['no-mutate'] !== true,
  };
}

function burstCommand(values: Values, target: { workspaceId?: string }): BurstCommand {
  const count = int(values.count, 'count', 1, 1_000_000);
  if (count === undefined) throw new UsageError('burst needs --count <n>');
  const events = str(values.events)
    ?.split(',')
    .map((e) => eventName(e.trim()));
  const window = int(values['reorder-window'], 'reorder-window', 2, 10_000);
  const duplicates = num(values.duplicates, 'duplicates', 0, 1);
  const rate = num(values.rate, 'rate', 0.001, 1_000_000);
  const concurrency = int(values.concurrency, 'concurrency', 1, 10_000);
  return {
    count,
    ...target,
    ...(events ? { events } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(duplicates !== undefined ? { duplicates } : {}),
    ...(window !== undefined ? { reorder: window } : values.reorder ? { reorder: true } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    mutate: values['no-mutate'] !== true,
  };
}

/** Runs a command inside the running `sim serve`; bounded by the time the command needs. */
async function runOnServer(
  server: ServerState,
  name: 'webhook' | 'burst',
  input: WebhookCommand | BurstCommand,
): Promise<CommandResult> {
  const expectedMs = 'count' in input ? (input.count / (input.rate ?? 100)) * 1000 * 2 : 0;
  const res = await fetch(`${server.origin}/_sim/commands/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CONTROL_TOKEN_HEADER]: server.controlToken ?? '' },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(60_000 + expectedMs),
  });
  const answer = (await res.json().catch(() => undefined)) as
    (CommandResult & { message?: string }) | { message?: string } | undefined;
  if (res.status !== 200 || !answer || !('code' in answer)) {
    const message = answer?.message ?? `HTTP ${res.status}`;
    if (res.status === 400) throw new UsageError(message);
    throw new Error(`the running \`sim serve\` (pid ${server.pid}) could not run ${name}: ${message}`);
  }
  return answer;
}

function state(dataDir: string, out: (h: string, m: unknown) => void): number {
  const server = readServerState(dataDir);
  const file = join(simulatorDir(dataDir), 'installations.json');
  const installations = existsSync(file)
    ? (
        (JSON.parse(readFileSync(file, 'utf8')) as { installations?: Array<Record<string, unknown>> }).installations ??
        []
      ).map((i) => ({
        addonKey: i.addonKey,
        workspaceId: i.workspaceId,
        addonId: i.addonId,
        status: i.status,
        deliveryBaseUrl: i.deliveryBaseUrl,
        webhooks: (i.manifest as { webhooks?: unknown[] } | undefined)?.webhooks?.length ?? 0,
      }))
    : [];
  const running = server ? alive(server.pid) : false;
  out(
    [
      server
        ? `mock API: ${server.url} (${running ? `running, pid ${server.pid}` : 'not running'}, seed ${server.seed})`
        : 'mock API: never started here',
      installations.length === 0 ? 'installations: none' : 'installations:',
      ...installations.map(
        (i) =>
          `  ${String(i.addonKey)} on ${String(i.workspaceId)}: ${String(i.status)}, ${i.webhooks} webhooks → ${String(i.deliveryBaseUrl)}`,
      ),
    ].join('\n'),
    { server: server ? { ...publicState(server), running } : null, installations },
  );
  return 0;
}

function lifecycleOutcome(result: LifecycleResult, out: (h: string, m: unknown) => void, success: string): number {
  const summary = {
    type: result.type,
    url: result.url,
    status: result.status,
    durationMs: Math.round(result.durationMs),
    workspaceId: result.installation.workspaceId,
    addonId: result.installation.addonId,
    addonKey: result.installation.addonKey,
    response: result.body,
    ...(result.error ? { error: result.error } : {}),
  };
  if (!result.ok) {
    const why =
      result.status === 0
        ? `no answer (${result.error ?? 'unknown error'})`
        : `${result.status} ${JSON.stringify(result.body ?? '')}`;
    process.stderr.write(`error: ${result.type} to ${result.url} failed: ${why}\n`);
    out('', summary);
    return 1;
  }
  out(`${success}\n  ${result.type} → ${result.url}: ${result.status} in ${summary.durationMs} ms`, summary);
  return 0;
}

function serverStatePath(dataDir: string): string {
  return join(simulatorDir(dataDir), 'server.json');
}

function readServerState(dataDir: string): ServerState | undefined {
  const file = serverStatePath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServerState;
  } catch {
    throw new Error(`${file} is not valid JSON; delete it and start \`sim serve\` again`);
  }
}

/** The server state without its control token, for output. */
function publicState(state: ServerState): Omit<ServerState, 'controlToken'> {
  const { controlToken: _token, ...rest } = state;
  return rest;
}

function writeServerState(dataDir: string, state: ServerState): void {
  const file = serverStatePath(dataDir);
  mkdirSync(simulatorDir(dataDir), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function eventName(value: string | undefined): WebhookEventName {
  if (!value) throw new UsageError('name a webhook event, e.g. NEW_TIME_ENTRY');
  const upper = value.toUpperCase().replaceAll('-', '_');
  if (!isWebhookEventName(upper))
    throw new UsageError(`"${value}" is not a webhook event; one of: ${WEBHOOK_EVENT_NAMES.join(', ')}`);
  return upper;
}

function str(v: Values[string]): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function int(v: Values[string], name: string, min: number, max: number): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw new UsageError(`--${name} must be a whole number, got "${s}"`);
  const n = Number(s);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}`);
  return n;
}

function num(v: Values[string], name: string, min: number, max: number): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a number between ${min} and ${max}, got "${s}"`);
  return n;
}

function oneOf<T extends string>(v: Values[string], allowed: readonly T[], name: string): T | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return s as T;
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    if (err instanceof UsageError) process.stderr.write('Run `sim --help` for usage.\n');
    process.exitCode = 1;
  },
);
