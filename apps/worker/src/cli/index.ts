import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import {
  clockifyApiVars,
  databaseVars,
  defineEnv,
  jobVars,
  loadConfigOrExit,
  redisVars,
  runtimeVars,
  secretVars,
} from '@cap/config';
import { RateLimiter } from '@cap/clockify';
import {
  bootstrapProgress,
  listBootstrapRuns,
  listDeadLetters,
  openDatabase,
  type BootstrapProgress,
  type DatabaseHandle,
} from '@cap/db';
import {
  ApiCallError,
  OperationError,
  ReplayError,
  callClockify,
  drainQueue,
  findInstallation,
  findQueue,
  installationDetail,
  listInstallationOverviews,
  overviewRow,
  replayAllDeadLetters,
  replayDeadLetter,
  requestBootstrap,
} from '@cap/operator-actions';
import { closeQueues, createQueues, createWorkerConnection, waitForRedis } from '@cap/queue';
import { createLogger } from '@cap/observability';
import { acquireEmbeddedDatabaseLock, loadKeyring, queueBacklog } from '@cap/app-process';
import { rotateKeys } from './keys.js';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  dead-letters list [--all] [--workspace <id>] [--json]   exhausted jobs (--all includes replayed ones)
  dead-letters replay <id>                                replay one dead letter as a new job
  dead-letters replay --all [--workspace <id>]            replay every open dead letter
  bootstrap <workspaceId> [--no-wait]                     start a bootstrap and show its progress
  keys rotate [--dry-run]                                 re-encrypt every stored token under TOKEN_ENCRYPTION_KEY
                                                          (safe while the system serves; run it again to resume)
  installations list [--status <s>] [--json]              installations: status, tokens, last lifecycle event, bootstrap
  installations show <workspaceId> [--json]               one installation: webhooks, lifecycle, bootstrap, settings
  queues [--json]                                         jobs per queue and state, the wait of the next job, paused
  queues pause|resume <queue>                             stop or restart every worker taking jobs from a queue
  queues drain <queue> --confirm                          delete a queue's waiting and delayed jobs (a broken deploy)
  api <operationId> --workspace <id> [--path k=v]... [--query k=v]... [--body <file>] [--allow-write]
                                                          call the Clockify API with the installation's token: checked
                                                          against the spec, rate limited, recorded (prints the audit id)

Uses REDIS_URL, BULLMQ_PREFIX, DATABASE_URL and the token keys like the apps (see ENV_VARS.md).`;

const cliEnv = defineEnv('cli', {
  ...runtimeVars,
  ...redisVars,
  ...databaseVars,
  ...jobVars,
  ...secretVars,
  ...clockifyApiVars,
});

/** `k=v` pairs of a repeated option; a key given twice becomes a list (query parameters). */
function pairs(values: readonly string[] | undefined, option: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const item of values ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${option} takes key=value, got "${item}"`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    const prev = out[key];
    out[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return out;
}

class UsageError extends Error {}

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function openDb(config: ReturnType<typeof cliEnv.parse>): Promise<{ db: DatabaseHandle; release: () => void }> {
  let release = () => {};
  if (!config.DATABASE_URL) {
    try {
      release = acquireEmbeddedDatabaseLock(config.DATA_DIR);
    } catch (err) {
      fail(
        `${(err as Error).message}\nWith the embedded database, stop \`npm start\` first, or use the admin API (/admin/api, set ADMIN_USERNAME/ADMIN_PASSWORD).`,
      );
    }
  }
  return { db: await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR }), release };
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v ?? '')).slice(0, 60);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [
    line(cols),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join('\n');
}

const TERMINAL = new Set(['COMPLETED', 'PARTIAL', 'FAILED']);

async function watchBootstrap(
  db: DatabaseHandle,
  workspaceId: string,
  addonId: string,
  since: Date,
): Promise<BootstrapProgress> {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {percentage}% | {finished}/{total} resources | {items} items | {requests} requests | {status}',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const runs = await listBootstrapRuns(db.db, { workspaceId, addonId }, 5);
    const run = runs.find((r) => r.created_at >= since || ['PENDING', 'RUNNING', 'PAUSED'].includes(r.status));
    if (!run) {
      if (Date.now() > deadline) throw new Error('no bootstrap run appeared within 60 s: is a worker running?');
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const p = (await bootstrapProgress(db.db, run.id))!;
    const payload = {
      finished: p.totals.finished,
      items: p.totals.items,
      requests: p.totals.requests,
      status: p.run.status,
    };
    if (!started) {
      bar.start(Math.max(1, p.totals.resources), p.totals.finished, payload);
      started = true;
    }
    bar.update(p.totals.finished, payload);
    if (TERMINAL.has(p.run.status)) {
      bar.stop();
      return p;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      workspace: { type: 'string' },
      status: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      confirm: { type: 'boolean', default: false },
      path: { type: 'string', multiple: true },
      query: { type: 'string', multiple: true },
      body: { type: 'string' },
      'allow-write': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const config = loadConfigOrExit(cliEnv);
  const [command, sub, arg] = positionals;
  const { db, release } = await openDb(config);
  let connection: ReturnType<typeof createWorkerConnection> | undefined;
  let queues: ReturnType<typeof createQueues> | undefined;
  const needQueues = async () => {
    await waitForRedis(config.REDIS_URL, config.REDIS_CONNECT_TIMEOUT_MS);
    connection = createWorkerConnection({ url: config.REDIS_URL, name: 'cli' });
    // Replayed webhook jobs get the same retry policy as the ingress gives new ones.
    queues = createQueues(connection, config.BULLMQ_PREFIX, {
      webhookAttempts: config.WEBHOOK_JOB_ATTEMPTS,
      webhookBackoffMs: config.WEBHOOK_JOB_BACKOFF_MS,
    });
    return { db: db.db, queues, redis: connection };
  };
  try {
    if (command === 'dead-letters' && sub === 'list') {
      const letters = await listDeadLetters(db.db, {
        includeReplayed: values.all,
        ...(values.workspace ? { workspaceId: values.workspace } : {}),
        limit: 1000,
      });
      if (values.json) process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
      else
        process.stdout.write(
          `${table(
            letters.map((l) => ({
              id: l.id,
              queue: l.queue,
              job: l.job_name,
              jobId: l.job_id,
              workspace: l.workspace_id,
              attempts: l.attempts,
              failed: l.failed_at,
              replayed: l.replayed_at ?? '',
              error: l.error,
            })),
          )}\n`,
        );
      return 0;
    }
    if (command === 'dead-letters' && sub === 'replay') {
      const deps = await needQueues();
      if (values.all) {
        const result = await replayAllDeadLetters(deps, {
          ...(values.workspace ? { workspaceId: values.workspace } : {}),
          onProgress: (done, total) => process.stderr.write(`\rreplayed ${done}/${total}`),
        });
        process.stderr.write('\n');
        for (const f of result.failed) process.stdout.write(`dead letter ${f.id}: ${f.error}\n`);
        process.stdout.write(`replayed ${result.replayed.length}, failed ${result.failed.length}\n`);
        return result.failed.length > 0 ? 1 : 0;
      }
      const id = Number(arg);
      if (!Number.isSafeInteger(id) || id <= 0)
        throw new UsageError('dead-letters replay needs a dead letter id or --all');
      const result = await replayDeadLetter(deps, id);
      process.stdout.write(`dead letter ${id} replayed as job ${result.jobId} on queue ${result.queue}\n`);
      return 0;
    }
    if (command === 'bootstrap') {
      const workspaceId = sub;
      if (!workspaceId) throw new UsageError('bootstrap needs a workspace id');
      const deps = await needQueues();
      const installation = await findInstallation(db.db, workspaceId);
      const since = new Date(Date.now() - 1000);
      const result = await requestBootstrap(deps, workspaceId, installation ? { addonId: installation.addon_id } : {});
      process.stdout.write(
        result.activeRunId
          ? `a bootstrap is already running (${result.activeRunId}); following it\n`
          : `bootstrap requested (job ${result.jobId})\n`,
      );
      if (values['no-wait']) return 0;
      const p = await watchBootstrap(db, workspaceId, result.addonId, since);
      for (const r of p.resources) {
        process.stdout.write(
          `  ${r.resource.padEnd(14)} ${r.status.padEnd(9)} ${String(r.items).padStart(7)} items ${r.missing_scope ? ` needs ${r.missing_scope}` : ''}${r.error && !r.missing_scope ? ` ${r.error}` : ''}\n`,
        );
      }
      process.stdout.write(`bootstrap ${p.run.status}: ${p.totals.items} items in ${p.totals.requests} requests\n`);
      return p.run.status === 'COMPLETED' ? 0 : 1;
    }
    if (command === 'installations' && sub === 'list') {
      const status = values.status?.toUpperCase();
      if (status !== undefined && !['ACTIVE', 'INACTIVE', 'DELETED'].includes(status)) {
        throw new UsageError('--status must be ACTIVE, INACTIVE or DELETED');
      }
      const rows = await listInstallationOverviews(db.db, {
        ...(status ? { status: status as 'ACTIVE' | 'INACTIVE' | 'DELETED' } : {}),
        limit: 1000,
      });
      if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(`${table(rows.map(overviewRow))}\n`);
      return 0;
    }
    if (command === 'installations' && sub === 'show') {
      if (!arg) throw new UsageError('installations show needs a workspace id');
      const detail = await installationDetail(db.db, arg);
      if (!detail) {
        process.stderr.write(`workspace ${arg} has no installation\n`);
        return 1;
      }
      if (values.json) {
        process.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
        return 0;
      }
      const i = detail.installation;
      const run = detail.latestRun;
      const lines = [
        `workspace ${i.workspace_id}, add-on ${i.addon_id}: ${i.status}`,
        `  installed ${i.installed_at.toISOString()}${i.deleted_at ? `, deleted ${i.deleted_at.toISOString()}` : ''}`,
        `  installation token: ${i.hasToken ? 'stored (encrypted)' : 'none'}; API ${i.api_url ?? '-'}`,
        `  webhooks (${detail.webhooks.length}, a token stored for each): ${detail.webhooks.map((w) => w.event).join(', ') || 'none'}`,
        `  lifecycle: ${detail.lifecycle.map((l) => `${l.type} ${l.outcome} ${l.decidedAt.toISOString()}`).join('; ') || 'none'}`,
        `  bootstrap: ${run ? `${run.run.status} (${run.totals.items} items in ${run.totals.requests} requests, run ${run.run.id})` : 'never run'}`,
        `  settings: ${JSON.stringify(i.settings)}`,
        `  entities: ${JSON.stringify(detail.entities)}`,
        `  webhook events: ${JSON.stringify(detail.webhookEvents)}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }
    if (command === 'installations') throw new UsageError(`unknown installations command: ${sub ?? ''}`);
    if (command === 'queues') {
      const { queues: all, redis } = await needQueues();
      if (sub === undefined) {
        const backlogs = await Promise.all(Object.values(all).map((q) => queueBacklog(redis, q)));
        if (values.json) process.stdout.write(`${JSON.stringify(backlogs, null, 2)}\n`);
        else
          process.stdout.write(
            `${table(
              backlogs.map((b) => ({
                queue: b.queue,
                ...b.counts,
                'next waited (s)': b.oldestWaitingSeconds.toFixed(1),
                paused: b.paused ? 'yes' : '',
              })),
            )}\n`,
          );
        return 0;
      }
      if (!['pause', 'resume', 'drain'].includes(sub)) throw new UsageError(`unknown queues command: ${sub}`);
      let queue: ReturnType<typeof findQueue>;
      try {
        queue = findQueue(all, arg);
      } catch (err) {
        throw new UsageError(`queues ${sub}: ${(err as Error).message}`);
      }
      if (sub === 'pause') {
        await queue.pause();
        process.stdout.write(`queue ${queue.name} paused: workers take no new job from it until "queues resume"\n`);
      } else if (sub === 'resume') {
        await queue.resume();
        process.stdout.write(`queue ${queue.name} resumed\n`);
      } else {
        if (!values.confirm) {
          throw new UsageError(
            `queues drain deletes every waiting and delayed job of ${queue.name}; add --confirm to do it`,
          );
        }
        const drained = await drainQueue(queue);
        process.stdout.write(
          `queue ${queue.name} drained: ${drained.waiting} waiting and ${drained.delayed} delayed jobs deleted (active and failed jobs are kept)\n`,
        );
      }
      return 0;
    }
    if (command === 'api') {
      if (!sub) throw new UsageError('api needs an operationId (or "METHOD /v1/path/template")');
      if (!values.workspace) throw new UsageError('api needs --workspace <id>');
      let body: unknown;
      if (values.body !== undefined) {
        try {
          body = JSON.parse(readFileSync(values.body === '-' ? 0 : values.body, 'utf8')) as unknown;
        } catch (err) {
          throw new UsageError(`--body must name a file of JSON: ${(err as Error).message}`);
        }
      }
      const logger = createLogger({ name: 'cli', level: 'warn' }, process.stderr);
      const { redis } = await needQueues();
      const path = pairs(values.path, 'path');
      for (const [k, v] of Object.entries(path)) if (Array.isArray(v)) throw new UsageError(`--path ${k} given twice`);
      try {
        const result = await callClockify(
          {
            db: db.db,
            keyring: loadKeyring(config, logger),
            limiter: new RateLimiter(redis, { prefix: config.BULLMQ_PREFIX, rps: config.CLOCKIFY_RATE_LIMIT_RPS }),
            allowedHosts: config.CLOCKIFY_API_ALLOWED_HOSTS,
            timeoutMs: config.CLOCKIFY_API_TIMEOUT_MS,
            maxRetries: config.CLOCKIFY_API_MAX_RETRIES,
            logger,
          },
          {
            workspaceId: values.workspace,
            operation: sub,
            ...(values.path ? { path: path as Record<string, string> } : {}),
            ...(values.query ? { query: pairs(values.query, 'query') } : {}),
            ...(body !== undefined ? { body } : {}),
            allowWrite: values['allow-write'],
            actor: { kind: 'cli', id: `cli:${safeUser()}` },
          },
        );
        process.stderr.write(
          `${result.method} ${result.operationId}: ${result.status} in ${Math.round(result.durationMs)} ms (audit id ${result.auditId})\n`,
        );
        process.stdout.write(`${JSON.stringify(result.data ?? null, null, 2)}\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof ApiCallError)) throw err;
        process.stderr.write(`${err.message}${err.auditId ? ` (audit id ${err.auditId})` : ''}\n`);
        for (const p of err.detail?.problems ?? []) {
          process.stderr.write(`  ${p.in}${p.name ? ` ${p.name}` : ''}: ${p.message}\n`);
        }
        return 1;
      }
    }
    if (command === 'keys' && sub === 'rotate') {
      const keyring = loadKeyring(config, createLogger({ name: 'cli', level: 'warn' }, process.stderr));
      const dryRun = values['dry-run'];
      const report = await rotateKeys(db.db, keyring, {
        dryRun,
        onProgress: (r, table) =>
          process.stderr.write(
            `${table}: rotated ${r.rotated}, current ${r.current}, skipped ${r.skipped}, failed ${r.failed.length}\n`,
          ),
      });
      for (const f of report.failed) {
        process.stdout.write(
          `cannot rotate ${f.table} of workspace ${f.workspaceId}, add-on ${f.addonId}${f.event ? `, ${f.event}` : ''}: ${f.reason}\n`,
        );
      }
      process.stdout.write(
        `${dryRun ? 'would rotate' : 'rotated'} ${report.rotated}, already current ${report.current}, ` +
          `skipped (changed meanwhile) ${report.skipped}, failed ${report.failed.length}` +
          ` (current key ${keyring.currentKeyId})\n`,
      );
      if (report.missingKeys.length > 0) {
        process.stdout.write(
          `missing keys: ${report.missingKeys.join(', ')}; add them to TOKEN_ENCRYPTION_PREVIOUS_KEYS and run again\n`,
        );
      }
      return report.failed.length > 0 ? 1 : 0;
    }
    throw new UsageError(`unknown command: ${positionals.join(' ')}`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ReplayError || err instanceof OperationError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    if (queues) await closeQueues(queues);
    connection?.disconnect();
    await db.close();
    release();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => fail(`error: ${(err as Error).message}`),
);
