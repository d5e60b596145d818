import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTAINER_IMAGE_MARKER } from '@cap/config';
import { QUEUE_NAMES } from '@cap/queue';
import { describe, expect, it, type TestContext } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

/**
 * Static checks of infra/ and docker-compose.yml. No Docker engine or cluster exists where these
 * tests run, so they check what would otherwise only fail at deploy time: a worker that cannot
 * scale, a Redis that evicts jobs, an image running as root or without the data files, a probe
 * on the wrong path, an alert on a metric that does not exist.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

// ---------------------------------------------------------------------------------------------
// The metric contract (ARCHITECTURE.md and the infra brief): each must be defined by the code.
const COUNTERS_AND_GAUGES = [
  'http_requests_total',
  'webhook_deliveries_total',
  'clockify_token_verifications_total',
  'queue_jobs',
  'worker_jobs_total',
  'worker_stalled_jobs_total',
  'webhook_events_processed_total',
  'clockify_api_requests_total',
  'clockify_rate_limit_deferrals_total',
  'clockify_rate_limit_blocks_total',
  'bootstrap_runs_total',
];
const HISTOGRAMS = [
  'http_request_duration_seconds',
  'queue_enqueue_duration_seconds',
  'worker_job_duration_seconds',
  'clockify_rate_limit_wait_seconds',
];

/** Metrics the code really defines (`metrics.counter('name', …)` and friends, tests excluded). */
function metricsDefinedInCode(): { plain: Set<string>; histograms: Set<string> } {
  const plain = new Set<string>();
  const histograms = new Set<string>();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? walk(join(dir, e.name))
        : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
          ? [join(dir, e.name)]
          : [],
    );
  for (const top of ['packages', 'apps']) {
    for (const pkg of readdirSync(join(ROOT, top))) {
      const src = join(ROOT, top, pkg, 'src');
      if (!existsSync(src)) continue;
      for (const file of walk(src)) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/\.(counter|gauge|histogram)(?:<[^>]*>)?\(\s*'([a-z_]+)'/g)) {
          (m[1] === 'histogram' ? histograms : plain).add(m[2]!);
        }
      }
    }
  }
  return { plain, histograms };
}
const DEFINED = metricsDefinedInCode();
const KNOWN_METRICS = new Set([
  ...DEFINED.plain,
  ...[...DEFINED.histograms].flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
  'up',
]);
const isKnownMetric = (name: string): boolean =>
  KNOWN_METRICS.has(name) || name.startsWith('process_') || name.startsWith('nodejs_');

describe('metric contract', () => {
  it('every contract metric is defined by the code', () => {
    for (const name of COUNTERS_AND_GAUGES) expect(DEFINED.plain.has(name), name).toBe(true);
    for (const name of HISTOGRAMS) expect(DEFINED.histograms.has(name), name).toBe(true);
  });
});

const WEBHOOK_OUTCOMES = ['accepted', 'duplicate', 'rejected', 'shed', 'unavailable'];
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'];

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/** Metric names referenced by a PromQL expression (functions, keywords and labels excluded). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const before = bare[m.index - 1] ?? ' ';
    const after = bare.slice(m.index + word.length);
    if (/^\s*\(/.test(after)) continue; // a function or aggregation
    if (/[0-9.]/.test(before)) continue; // a unit or exponent: 5m, 1e-9
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return names;
}

/** Values of `label="value"` matchers on series of one metric in a PromQL expression. */
function matcherValues(expr: string, metric: string, label: string): string[] {
  const values: string[] = [];
  for (const sel of expr.matchAll(new RegExp(`\\b${metric}\\{([^}]*)\\}`, 'g'))) {
    for (const m of (sel[1] ?? '').matchAll(new RegExp(`\\b${label}\\s*=\\s*"([^"]*)"`, 'g'))) {
      values.push(m[1] ?? '');
    }
  }
  return values;
}

const HAS_PROMTOOL = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const NO_PROMTOOL = 'promtool not found (Debian: `apt-get install --no-install-recommends prometheus`)';

/** Skips where promtool is missing, except in CI, which must check the Prometheus files with it. */
function requirePromtool(ctx: TestContext): void {
  if (HAS_PROMTOOL) return;
  if (process.env.CI === 'true') throw new Error(`${NO_PROMTOOL}; CI must check the Prometheus files`);
  ctx.skip(NO_PROMTOOL);
}

function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const HAS_AMTOOL = spawnSync('amtool', ['--version'], { stdio: 'ignore' }).status === 0;
const NO_AMTOOL = 'amtool not found (Debian: `apt-get install --no-install-recommends prometheus-alertmanager`)';

/** GitHub's anchor of a Markdown heading: lower case, spaces to dashes, punctuation dropped. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** `${VAR:-default}` → default, as compose resolves it with VAR unset. */
const withDefaults = (value: string): string => value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');

// ---------------------------------------------------------------------------------------------
// Dockerfiles

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

interface Dockerfile {
  readonly globalArgs: Instruction[];
  readonly stages: Stage[];
}

function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = '';
  }
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical.filter((l) => l !== '')) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    const keyword = (match?.[1] ?? '').toUpperCase();
    const args = match?.[2] ?? '';
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: from?.[1] ?? '', name: from?.[2], instructions: [] });
    } else if (stages.length === 0) {
      globalArgs.push({ keyword, args });
    } else {
      stages[stages.length - 1]!.instructions.push({ keyword, args });
    }
  }
  return { globalArgs, stages };
}

/** The stage and the stages it is built FROM, oldest first. */
function lineage(file: Dockerfile, stage: Stage): Stage[] {
  const parent = file.stages.find((s) => s.name !== undefined && s.name === stage.from);
  return parent ? [...lineage(file, parent), stage] : [stage];
}

/** `ENV`/`ARG` pairs: `A=1 B="x y"` and the legacy `A 1`. */
function keyValues(args: string): Array<[string, string]> {
  const tokens = args.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
  if (tokens.length > 0 && !tokens[0]!.includes('=')) {
    return [[tokens[0]!, tokens.slice(1).join(' ')]];
  }
  return tokens.map((t) => {
    const i = t.indexOf('=');
    const key = i < 0 ? t : t.slice(0, i);
    const value = i < 0 ? '' : t.slice(i + 1).replace(/^["']|["']$/g, '');
    return [key, value];
  });
}

function effective(file: Dockerfile, stage: Stage) {
  const chain = lineage(file, stage).flatMap((s) => s.instructions);
  const last = (keyword: string) => chain.filter((i) => i.keyword === keyword).at(-1)?.args;
  const env = new Map(chain.filter((i) => i.keyword === 'ENV').flatMap((i) => keyValues(i.args)));
  return {
    env,
    user: last('USER'),
    cmd: last('CMD'),
    entrypoint: last('ENTRYPOINT'),
    healthcheck: last('HEALTHCHECK'),
    stopsignal: last('STOPSIGNAL'),
  };
}

const DOCKERFILES = [
  {
    app: 'ingress',
    file: 'infra/docker/ingress.Dockerfile',
    cmd: ['node', 'apps/ingress/dist/main.js'],
    port: 8080,
    health: '/health',
    opsPort: 8082,
  },
  {
    app: 'worker',
    file: 'infra/docker/worker.Dockerfile',
    cmd: ['node', 'apps/worker/dist/main.js'],
    port: 8081,
    health: '/health',
  },
  {
    app: 'simulator',
    file: 'infra/docker/simulator.Dockerfile',
    cmd: ['node', 'apps/simulator/dist/cli.js', 'serve', '--port', '8090'],
    port: 8090,
    // The simulator keeps its own routes under /_sim (test/images.test.ts probes each path).
    health: '/_sim/health',
  },
] as const;

describe('Dockerfiles', () => {
  for (const spec of DOCKERFILES) {
    describe(spec.app, () => {
      const text = read(spec.file);
      const file = parseDockerfile(text);
      const final = file.stages.at(-1)!;
      const eff = effective(file, final);
      const runs = file.stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args));

      it('is multi-stage: dependencies and build stay out of the runtime image', () => {
        expect(file.stages.length).toBeGreaterThanOrEqual(3);
        expect(text).toMatch(/COPY\s+--from=/);
        // The runtime image starts from a fresh Node slim image of the .nvmrc major, pinned to a
        // release and to its digest, not from the build stage.
        const runtimeRoot = lineage(file, final)[0]!;
        const nodeImage = file.globalArgs
          .filter((i) => i.keyword === 'ARG')
          .flatMap((i) => keyValues(i.args))
          .find(([k]) => k === 'NODE_IMAGE')?.[1];
        const major = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();
        expect(nodeImage).toMatch(new RegExp(`^node:${major}\\.\\d+\\.\\d+-bookworm-slim@sha256:[0-9a-f]{64}$`));
        expect(runtimeRoot.from).toBe('${NODE_IMAGE}');
        expect(runtimeRoot.instructions.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci'))).toBe(false);
      });

      it('installs with npm ci from the committed lockfile and builds with turbo', () => {
        expect(text).toContain('package-lock.json');
        expect(runs.some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
        expect(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
        expect(runs.some((r) => /turbo run build/.test(r))).toBe(true);
        // `npm install` would rewrite the lockfile; only the npm CLI itself is installed that way.
        for (const r of runs.filter((r) => /\bnpm (install|i)\b/.test(r))) {
          expect(r).toMatch(/npm install --global "?npm@/);
        }
      });

      const stageArg = (name: string) =>
        file.stages
          .flatMap((s) => s.instructions)
          .filter((i) => i.keyword === 'ARG')
          .flatMap((i) => keyValues(i.args))
          .find(([k]) => k === name)?.[1];

      it('pins the npm that wrote the lockfile and the turbo it locks', () => {
        const pkg = JSON.parse(read('package.json')) as { packageManager?: string };
        expect(pkg.packageManager).toBe(`npm@${stageArg('NPM_VERSION')}`);
        const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string }> };
        expect(stageArg('TURBO_VERSION')).toBe(lock.packages['node_modules/turbo']?.version);
        expect(runs.some((r) => r.includes('"turbo@${TURBO_VERSION}"'))).toBe(true);
      });

      it(`is cut to @cap/${spec.app} by turbo prune, and installs only its production dependencies`, () => {
        const app = file.globalArgs
          .filter((i) => i.keyword === 'ARG')
          .flatMap((i) => keyValues(i.args))
          .find(([k]) => k === 'APP')?.[1];
        expect(app).toBe(spec.app);
        // The same commands test/images.test.ts runs outside Docker.
        expect(runs.some((r) => r.includes('image.mjs prune "${APP}" /pruned'))).toBe(true);
        expect(runs.some((r) => r.includes('image.mjs collect "${APP}" /out'))).toBe(true);
        const prodDeps = file.stages.find((s) => s.name === 'prod-deps')!;
        expect(prodDeps.instructions.map((i) => `${i.keyword} ${i.args}`.replace(/\s+/g, ' '))).toEqual([
          'COPY --from=prune /pruned/prod/ ./',
          'RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --omit=dev --legacy-peer-deps --ignore-scripts',
        ]);
      });

      it('runs as a non-root user with NODE_ENV=production', () => {
        expect(eff.user).toBeDefined();
        const user = (eff.user ?? '').split(':')[0];
        expect(['root', '0', '']).not.toContain(user);
        // The last USER of the file is the final stage's (nothing later switches back to root).
        const users = file.stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'USER');
        expect(users.at(-1)?.args).toBe(eff.user);
        expect(final.instructions.some((i) => i.keyword === 'USER')).toBe(true);
        expect(eff.env.get('NODE_ENV')).toBe('production');
        // Production stays the default even where an orchestrator sets NODE_ENV to nothing.
        const chain = lineage(file, final).flatMap((s) => s.instructions);
        expect(chain.some((i) => i.keyword === 'RUN' && i.args.includes(`touch /app/${CONTAINER_IMAGE_MARKER}`))).toBe(
          true,
        );
      });

      it(`starts node directly on ${spec.cmd[1]} (exec form, so SIGTERM reaches node)`, () => {
        expect(eff.entrypoint).toBeUndefined();
        expect(JSON.parse(eff.cmd ?? 'null')).toEqual(spec.cmd);
        expect(eff.stopsignal).toBe('SIGTERM');
      });

      it(`checks its health on ${spec.health}, port ${spec.port}`, () => {
        const hc = eff.healthcheck ?? '';
        const cmd = /\bCMD\s+(\[.*\])\s*$/.exec(hc)?.[1];
        expect(cmd, 'exec-form HEALTHCHECK CMD').toBeDefined();
        const argv = JSON.parse(cmd!) as string[];
        expect(argv[0]).toBe('node');
        // The path as a whole: '/health' or 8090/_sim/health, then the closing quote.
        expect(argv.join(' ')).toMatch(new RegExp(`['\\d]${spec.health}'`));
        expect(argv.join(' ')).toContain(String(spec.port));
        expect(
          final.instructions.some((i) => i.keyword === 'EXPOSE' && i.args.split(/\s+/).includes(String(spec.port))),
        ).toBe(true);
      });

      if ('opsPort' in spec) {
        it(`sets and exposes the ops port ${spec.opsPort} (INGRESS_OPS_PORT)`, () => {
          const env = final.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args);
          expect(env).toContain(`INGRESS_OPS_PORT=${spec.opsPort}`);
          expect(
            final.instructions.some(
              (i) => i.keyword === 'EXPOSE' && i.args.split(/\s+/).includes(String(spec.opsPort)),
            ),
          ).toBe(true);
        });
      }

      it('bakes in no secret', () => {
        const declared = file.stages
          .flatMap((s) => s.instructions)
          .concat(file.globalArgs)
          .filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')
          .flatMap((i) => keyValues(i.args).map(([k]) => k));
        for (const name of declared) {
          expect(name).not.toMatch(/KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL/);
        }
        expect(text).not.toMatch(/[A-Za-z0-9+/]{43}=/);
      });
    });
  }

  it('share identical prune, dependency and build stages but for the app they are cut to', () => {
    const shared = DOCKERFILES.map((d) => {
      const f = parseDockerfile(read(d.file));
      const args = f.globalArgs.filter((i) => !(i.keyword === 'ARG' && i.args.startsWith('APP=')));
      return JSON.stringify({ args, stages: f.stages.slice(0, -1) });
    });
    expect(shared[1]).toBe(shared[0]);
    expect(shared[2]).toBe(shared[0]);
  });
});

describe('workspace "files"', () => {
  it('every workspace declares what it ships (the images copy exactly that), and it exists once built', () => {
    const root = JSON.parse(read('package.json')) as { workspaces: string[] };
    const dirs = root.workspaces.flatMap((pattern) =>
      readdirSync(join(ROOT, pattern.replace(/\/\*$/, '')), { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(ROOT, pattern.replace(/\/\*$/, ''), d.name, 'package.json')))
        .map((d) => `${pattern.replace(/\/\*$/, '')}/${d.name}`),
    );
    expect(dirs.length).toBeGreaterThanOrEqual(14);
    // Not the add-on that test scaffolds and builds while this one may run.
    for (const dir of dirs.filter((d) => !d.startsWith('addons/scaffold-e2e-'))) {
      const pkg = JSON.parse(read(`${dir}/package.json`)) as { files?: string[] };
      expect(pkg.files?.[0], dir).toBe('dist');
      for (const f of pkg.files ?? []) expect(existsSync(join(ROOT, dir, f)), `${dir}/${f}`).toBe(true);
    }
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  const toRegExp = (pattern: string): RegExp => {
    const body = pattern
      .replace(/^\//, '')
      .replace(/\*\*\/|\*\*|\*|\?|[.+^$()|[\]\\{}]/g, (t) =>
        t === '**/' ? '(?:.*/)?' : t === '**' ? '.*' : t === '*' ? '[^/]*' : t === '?' ? '[^/]' : `\\${t}`,
      );
    return new RegExp(`^${body}$`);
  };

  /** Docker's rule: the last matching pattern wins; a match on a parent folder excludes the path. */
  const ignored = (path: string): boolean => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let result = false;
    for (const p of patterns) {
      const negate = p.startsWith('!');
      const re = toRegExp(negate ? p.slice(1) : p);
      if (prefixes.some((prefix) => re.test(prefix))) result = !negate;
    }
    return result;
  };

  it('keeps host builds, local state and secrets out of the build context', () => {
    for (const path of [
      'node_modules/bullmq/package.json',
      'packages/db/node_modules/pg/index.js',
      'apps/ingress/dist/main.js',
      'packages/clockify/dist/index.js',
      '.data/token-encryption.key',
      '.git/HEAD',
      'coverage/index.html',
      '.env',
      '.turbo/cache/x',
      'packages/config/tsconfig.build.tsbuildinfo',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });

  it('keeps what the build and the runtime need', () => {
    for (const path of [
      'package.json',
      'package-lock.json',
      'turbo.json',
      'tsconfig.base.json',
      'packages/clockify/data/clockify-addon-public-key.pem',
      'packages/clockify/data/manifest-schemas/1.6.json',
      'packages/clockify/src/index.ts',
      'packages/config/tsconfig.build.json',
      'apps/ingress/src/main.ts',
      'apps/worker/package.json',
      'infra/docker/image.mjs',
    ]) {
      expect(ignored(path), path).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string | string[];
  container_name?: string;
  ports?: Array<string | { target?: number; published?: string | number }>;
  expose?: Array<string | number>;
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: string[];
  stop_grace_period?: string;
  network_mode?: string;
  profiles?: string[];
}

interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

describe('docker-compose.yml', () => {
  const text = read('docker-compose.yml');
  // Compose supports YAML merge keys (`<<: *app`); the yaml package needs them switched on.
  const compose = parse(text, { merge: true }) as Compose;
  const svc = (name: string): ComposeService => {
    const s = compose.services[name];
    expect(s, `service ${name}`).toBeDefined();
    return s!;
  };
  const seconds = (d: string): number => {
    const m = /^(\d+)(ms|s|m)$/.exec(d);
    if (!m) throw new Error(`unsupported duration ${d}`);
    return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 } as const)[m[2] as 'ms' | 's' | 'm'];
  };

  it('parses and defines the platform services', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['redis', 'postgres', 'ingress', 'worker', 'simulator']),
    );
  });

  it('runs Redis 7 with AOF and noeviction on a volume (BullMQ must never lose keys)', () => {
    const redis = svc('redis');
    expect(redis.image).toMatch(/^redis:7/);
    const cmd = Array.isArray(redis.command) ? redis.command.join(' ') : (redis.command ?? '');
    expect(cmd).toMatch(/--appendonly\s+yes/);
    expect(cmd).toMatch(/--maxmemory-policy\s+noeviction/);
    expect(redis.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('runs Postgres 16 on a volume', () => {
    const pg = svc('postgres');
    expect(pg.image).toMatch(/^postgres:16/);
    expect(pg.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
  });

  it('lets `docker compose up --scale worker=3` work: no container_name, no host port', () => {
    const worker = svc('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.network_mode).toBeUndefined();
    expect(worker.profiles).toBeUndefined();
  });

  it('publishes the ingress on 8080', () => {
    const ports = (svc('ingress').ports ?? []).map((p) =>
      typeof p === 'string' ? withDefaults(p) : `${p.published ?? ''}:${p.target ?? ''}`,
    );
    expect(ports).toContain('8080:8080');
  });

  it("exposes the ingress's ops port (metrics, detailed /ready) to Prometheus, not to the host", () => {
    const ingress = svc('ingress');
    expect(ingress.environment?.INGRESS_OPS_PORT).toBe('8082');
    expect((ingress.expose ?? []).map(String)).toContain('8082');
    const published = (ingress.ports ?? []).map((p) =>
      typeof p === 'string' ? withDefaults(p) : `${p.published ?? ''}:${p.target ?? ''}`,
    );
    expect(published.some((p) => p.endsWith(':8082'))).toBe(false);
  });

  it('gives every service a healthcheck', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.healthcheck?.disable, name).not.toBe(true);
      expect(s.healthcheck?.test, name).toBeDefined();
      expect((s.healthcheck?.test ?? []).length, name).toBeGreaterThan(0);
    }
    for (const { app, health } of DOCKERFILES) {
      expect(JSON.stringify(svc(app).healthcheck?.test)).toMatch(new RegExp(`\\d${health}'`));
    }
  });

  it('starts ingress and worker only after Redis and Postgres are healthy', () => {
    for (const name of ['ingress', 'worker']) {
      const deps = svc(name).depends_on as Record<string, { condition?: string }>;
      expect(deps.redis?.condition, name).toBe('service_healthy');
      expect(deps.postgres?.condition, name).toBe('service_healthy');
    }
  });

  it('wires ingress and worker to the compose Redis and Postgres, in production mode', () => {
    for (const name of ['ingress', 'worker']) {
      const env = svc(name).environment ?? {};
      expect(env.NODE_ENV, name).toBe('production');
      expect(new URL(withDefaults(String(env.DATABASE_URL))).hostname, name).toBe('postgres');
      expect(new URL(withDefaults(String(env.REDIS_URL))).hostname, name).toBe('redis');
    }
    expect(svc('ingress').environment?.PORT).toBe('8080');
    expect(svc('worker').environment?.WORKER_PORT).toBe('8081');
  });

  it('takes TOKEN_ENCRYPTION_KEY from the environment and refuses to start without it', () => {
    for (const name of ['ingress', 'worker']) {
      expect(String(svc(name).environment?.TOKEN_ENCRYPTION_KEY), name).toMatch(/^\$\{TOKEN_ENCRYPTION_KEY:\?[^}]+\}$/);
    }
    // No literal key anywhere (base64 of 32 bytes is 44 characters ending in "=").
    expect(text).not.toMatch(/[A-Za-z0-9+/]{43}=/);
    expect(text).not.toMatch(/^\s*-?\s*TOKEN_ENCRYPTION_KEY\s*[:=]\s*(?!\$\{)\S/m);
  });

  it('consumes only real queues by default', () => {
    const queues = withDefaults(String(svc('worker').environment?.WORKER_QUEUES)).split(',');
    expect(queues.length).toBeGreaterThan(0);
    for (const q of queues) expect(QUEUE_NAMES).toContain(q);
    expect([...queues].sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('builds every app from the repository root with its own Dockerfile (one lockfile)', () => {
    for (const name of ['ingress', 'worker', 'simulator']) {
      const build = svc(name).build;
      expect(build?.context, name).toBe('.');
      expect(build?.dockerfile, name).toBe(`infra/docker/${name}.Dockerfile`);
      expect(existsSync(join(ROOT, build!.dockerfile!)), name).toBe(true);
    }
  });

  it('waits longer than SHUTDOWN_TIMEOUT_MS before killing an app', () => {
    for (const name of ['ingress', 'worker']) {
      const s = svc(name);
      const shutdownMs = Number(s.environment?.SHUTDOWN_TIMEOUT_MS ?? 8000);
      expect(seconds(s.stop_grace_period ?? '10s') * 1000, name).toBeGreaterThan(shutdownMs);
    }
  });

  it('mounts only infra files that exist', () => {
    for (const s of Object.values(compose.services)) {
      for (const v of s.volumes ?? []) {
        if (!v.startsWith('./')) continue;
        expect(existsSync(join(ROOT, v.split(':')[0]!)), v).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Kubernetes

interface K8sContainer {
  name: string;
  image?: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  readinessProbe?: { httpGet?: { path?: string; port?: string | number } };
  livenessProbe?: { httpGet?: { path?: string; port?: string | number } };
  startupProbe?: { httpGet?: { path?: string; port?: string | number } };
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds?: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface K8sPodSpec {
  terminationGracePeriodSeconds?: number;
  enableServiceLinks?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: K8sContainer[];
  volumes?: Array<{ name: string; emptyDir?: object }>;
}

interface K8sDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    template?: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: K8sPodSpec };
    ports?: Array<{ name?: string; port: number; targetPort?: string | number }>;
    scaleTargetRef?: { kind: string; name: string };
    minReplicas?: number;
    maxReplicas?: number;
    minAvailable?: number | string;
    maxUnavailable?: number | string;
  };
}

describe('Kubernetes manifests', () => {
  const dir = join(ROOT, 'infra/k8s');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  const docs: Array<K8sDoc & { file: string }> = [];
  for (const f of files.filter((f) => f !== 'kustomization.yaml')) {
    for (const d of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const js = d.toJS() as K8sDoc | null;
      if (js) docs.push({ ...js, file: f });
    }
  }
  const applied = docs.filter((d) => d.file !== 'secret.example.yaml');
  const find = (kind: string, name: string): K8sDoc => {
    const doc = applied.find((d) => d.kind === kind && d.metadata.name === name);
    expect(doc, `${kind}/${name}`).toBeDefined();
    return doc!;
  };
  const configMap = () => find('ConfigMap', 'cap-config');
  const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
    Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

  const APPS = [
    {
      deployment: 'cap-ingress',
      port: 8080,
      // /metrics and the detailed /ready; the public port serves neither.
      opsPort: 8082,
      secrets: ['TOKEN_ENCRYPTION_KEY', 'DATABASE_URL', 'REDIS_URL', 'ADMIN_PASSWORD'],
    },
    {
      deployment: 'cap-worker',
      port: 8081,
      opsPort: 8081,
      secrets: ['TOKEN_ENCRYPTION_KEY', 'DATABASE_URL', 'REDIS_URL'],
    },
  ] as const;

  it('parse, and every document names its kind', () => {
    for (const f of files) {
      for (const d of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
        expect(d.errors, f).toEqual([]);
      }
    }
    expect(docs.length).toBeGreaterThanOrEqual(9);
    for (const d of docs) {
      expect(d.apiVersion, d.file).toBeTruthy();
      expect(d.kind, d.file).toBeTruthy();
      expect(d.metadata?.name, d.file).toBeTruthy();
    }
  });

  it('kustomization applies every manifest except the example Secret', () => {
    const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    const expected = files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort();
    expect([...k.resources].sort()).toEqual(expected);
  });

  for (const app of APPS) {
    describe(app.deployment, () => {
      const pod = () => find('Deployment', app.deployment).spec!.template!.spec;
      const container = () => pod().containers[0]!;
      const portOf = (ref: string | number | undefined): number | undefined =>
        typeof ref === 'number' ? ref : container().ports?.find((p) => p.name === ref)?.containerPort;

      it(`probes /ready for readiness on port ${app.opsPort} and /health for liveness on port ${app.port}`, () => {
        const c = container();
        expect(c.readinessProbe?.httpGet?.path).toBe('/ready');
        expect(c.livenessProbe?.httpGet?.path).toBe('/health');
        expect(portOf(c.readinessProbe?.httpGet?.port)).toBe(app.opsPort);
        expect(portOf(c.livenessProbe?.httpGet?.port)).toBe(app.port);
        if (c.startupProbe) expect(c.startupProbe.httpGet?.path).toBe('/health');
      });

      it('gives a graceful shutdown (and any preStop pause) time to finish', () => {
        const shutdownMs = Number(configMap().data?.SHUTDOWN_TIMEOUT_MS ?? 8000);
        const preStop = container().lifecycle?.preStop;
        const sleepArg = preStop?.exec?.command?.[0] === 'sleep' ? Number(preStop.exec.command[1]) : 0;
        const preStopMs = (preStop?.sleep?.seconds ?? sleepArg) * 1000;
        expect((pod().terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(shutdownMs + preStopMs);
      });

      it('runs as non-root on a read-only root filesystem with an emptyDir /tmp', () => {
        const p = pod();
        const c = container();
        expect(p.securityContext?.runAsNonRoot ?? c.securityContext?.runAsNonRoot).toBe(true);
        expect(p.securityContext?.runAsUser).not.toBe(0);
        expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
        expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(tmp).toBeDefined();
        expect(p.volumes?.find((v) => v.name === tmp!.name)?.emptyDir).toBeDefined();
        expect(p.enableServiceLinks).toBe(false);
      });

      it('declares CPU and memory requests and a memory limit', () => {
        const r = container().resources;
        expect(r?.requests?.cpu).toBeDefined();
        expect(r?.requests?.memory).toBeDefined();
        expect(r?.limits?.memory).toBeDefined();
      });

      it('reads secrets from the Secret, never from literals or the ConfigMap', () => {
        const env = container().env ?? [];
        for (const name of app.secrets) {
          const entry = env.find((e) => e.name === name);
          expect(entry?.valueFrom?.secretKeyRef?.name, name).toBe('cap-secrets');
          expect(entry?.value, name).toBeUndefined();
          expect(configMap().data?.[name], name).toBeUndefined();
        }
        // Only the admin credentials may be absent (the admin surface is then off).
        for (const e of env.filter((e) => e.valueFrom?.secretKeyRef?.optional)) {
          expect(['ADMIN_USERNAME', 'ADMIN_PASSWORD', 'TOKEN_ENCRYPTION_PREVIOUS_KEYS']).toContain(e.name);
        }
        expect(container().envFrom?.some((e) => e.configMapRef?.name === 'cap-config')).toBe(true);
      });

      it('is selected by its Service, PodDisruptionBudget and scrape annotations', () => {
        const d = find('Deployment', app.deployment);
        const labels = d.spec!.template!.metadata.labels;
        expect(matches((d.spec!.selector as { matchLabels: Record<string, string> }).matchLabels, labels)).toBe(true);
        const service = find('Service', app.deployment);
        expect(matches(service.spec!.selector as Record<string, string>, labels)).toBe(true);
        for (const p of service.spec!.ports ?? []) expect(portOf(p.targetPort ?? p.port)).toBe(app.port);
        const pdb = find('PodDisruptionBudget', app.deployment);
        expect(matches((pdb.spec!.selector as { matchLabels: Record<string, string> }).matchLabels, labels)).toBe(true);
        const annotations = d.spec!.template!.metadata.annotations ?? {};
        expect(annotations['prometheus.io/scrape']).toBe('true');
        // Scraped on the ops port; the Service (checked above) carries only the public one.
        expect(Number(annotations['prometheus.io/port'])).toBe(app.opsPort);
        expect(annotations['prometheus.io/path']).toBe('/metrics');
      });
    });
  }

  /** The KEDA ScaledObject of the workers, as far as these tests read it. */
  const scaledObject = () =>
    find('ScaledObject', 'cap-worker') as K8sDoc & {
      spec: {
        scaleTargetRef: { kind: string; name: string };
        minReplicaCount: number;
        maxReplicaCount: number;
        triggers: Array<{ type: string; metadata: Record<string, string> }>;
      };
    };

  it('scales the workers on their backlog with KEDA (and leaves their replica count to it)', () => {
    const so = scaledObject();
    expect(so.apiVersion).toBe('keda.sh/v1alpha1');
    expect(so.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'cap-worker' });
    expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    expect(so.spec.maxReplicaCount).toBeGreaterThan(so.spec.minReplicaCount);
    const queries = so.spec.triggers.filter((t) => t.type === 'prometheus').map((t) => t.metadata.query);
    // The backlog and the wait of the job next in line, both exported by the workers themselves.
    expect(queries.some((q) => /queue_jobs\{queue="webhooks",state="waiting"\}/.test(q!))).toBe(true);
    expect(queries.some((q) => /queue_oldest_waiting_seconds\{queue="webhooks"\}/.test(q!))).toBe(true);
    for (const t of so.spec.triggers.filter((t) => t.type === 'prometheus')) {
      expect(Number(t.metadata.threshold)).toBeGreaterThan(0);
    }
    expect(find('Deployment', 'cap-worker').spec?.replicas).toBeUndefined();
    // One autoscaler per Deployment: KEDA owns the worker's HPA.
    expect(applied.filter((d) => d.kind === 'HorizontalPodAutoscaler' && d.metadata.name === 'cap-worker')).toEqual([]);
  });

  it('autoscales the ingress on CPU, and keeps at least one through voluntary disruptions', () => {
    const hpa = find('HorizontalPodAutoscaler', 'cap-ingress');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'cap-ingress' });
    expect(find('Deployment', 'cap-ingress').spec?.replicas).toBeUndefined();
    const min = hpa.spec?.minReplicas ?? 1;
    const pdb = find('PodDisruptionBudget', 'cap-ingress');
    expect(min).toBeGreaterThanOrEqual(2);
    expect(hpa.spec?.maxReplicas).toBeGreaterThan(min);
    expect(pdb.spec?.minAvailable ?? 0).toBeGreaterThanOrEqual(1);
    expect(pdb.spec?.minAvailable).toBeLessThan(min);
  });

  it('migrates in a Job before a rollout, and the apps do not migrate on start', () => {
    expect(configMap().data?.MIGRATE_ON_START).toBe('false');
    const job = find('Job', 'cap-migrate') as K8sDoc & {
      spec: {
        backoffLimit?: number;
        activeDeadlineSeconds?: number;
        template: { spec: K8sPodSpec & { restartPolicy?: string } };
      };
    };
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    const container = pod.containers[0]!;
    expect(container.image).toBe('cap-worker');
    expect((container as K8sContainer & { command?: string[] }).command).toEqual([
      'node',
      'apps/worker/dist/migrate.js',
    ]);
    expect(existsSync(join(ROOT, 'apps/worker/src/migrate.ts'))).toBe(true);
    expect(container.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.key).toBe('DATABASE_URL');
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it("keeps every process's Postgres pool, at the autoscalers' maximums, inside max_connections", () => {
    // Postgres's default max_connections (100) minus superuser_reserved_connections (3).
    const budget = 100 - 3;
    const poolOf = (deployment: string): number => {
      const env = find('Deployment', deployment).spec!.template!.spec.containers[0]!.env ?? [];
      return Number(
        env.find((e) => e.name === 'DATABASE_POOL_MAX')?.value ?? configMap().data?.DATABASE_POOL_MAX ?? 10,
      );
    };
    const workers = scaledObject().spec.maxReplicaCount * poolOf('cap-worker');
    const ingresses = (find('HorizontalPodAutoscaler', 'cap-ingress').spec?.maxReplicas ?? 0) * poolOf('cap-ingress');
    const job = Number(
      (
        find('Job', 'cap-migrate') as K8sDoc & { spec: { template: { spec: K8sPodSpec } } }
      ).spec.template.spec.containers[0]!.env?.find((e) => e.name === 'DATABASE_POOL_MAX')?.value,
    );
    expect(
      workers + ingresses + job,
      `workers ${workers} + ingresses ${ingresses} + migration ${job}`,
    ).toBeLessThanOrEqual(budget);
  });

  it("configures the ingress's ops port as a named containerPort kept out of its Service", () => {
    const ingress = find('Deployment', 'cap-ingress').spec!.template!.spec.containers[0]!;
    expect(ingress.ports?.find((p) => p.name === 'ops')?.containerPort).toBe(8082);
    expect(ingress.env?.find((e) => e.name === 'INGRESS_OPS_PORT')?.value).toBe('8082');
    expect(ingress.env?.find((e) => e.name === 'PORT')?.value).toBe('8080');
    const service = find('Service', 'cap-ingress');
    for (const p of service.spec!.ports ?? []) expect(p.targetPort).not.toBe('ops');
  });

  it('configures the worker with real queue names and the ingress and worker ports', () => {
    const worker = find('Deployment', 'cap-worker').spec!.template!.spec.containers[0]!;
    const queues = worker.env?.find((e) => e.name === 'WORKER_QUEUES')?.value?.split(',') ?? [];
    expect(queues.length).toBeGreaterThan(0);
    for (const q of queues) expect(QUEUE_NAMES).toContain(q);
    expect(configMap().data?.NODE_ENV).toBe('production');
  });

  it('documents the Secret keys the Deployments read', () => {
    const example = docs.find((d) => d.file === 'secret.example.yaml') as
      (K8sDoc & { stringData?: Record<string, string> }) | undefined;
    expect(example?.kind).toBe('Secret');
    const keys = Object.keys(example?.stringData ?? {});
    for (const app of APPS) for (const s of app.secrets) expect(keys).toContain(s);
  });
});

// ---------------------------------------------------------------------------------------------
// Prometheus and Grafana

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: Array<{ targets: string[] }>;
  dns_sd_configs?: Array<{ names: string[]; port?: number }>;
  kubernetes_sd_configs?: Array<{ role: string }>;
  relabel_configs?: Array<{ source_labels?: string[]; action?: string; regex?: string }>;
}

describe('Prometheus', () => {
  const config = parse(read('infra/prometheus/prometheus.yml')) as {
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  const k8sConfig = parse(read('infra/prometheus/prometheus.k8s.yml')) as {
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  const alerts = parse(read('infra/prometheus/alerts.yml')) as { groups: Array<{ name: string; rules: AlertRule[] }> };
  const rules = alerts.groups.flatMap((g) => g.rules);
  const exprs = rules.map((r) => r.expr);

  it('scrapes every ingress on its ops port 8082 and every worker on 8081 at /metrics', () => {
    const job = (name: string) => config.scrape_configs.find((s) => s.job_name === name);
    const ingress = job('cap-ingress');
    const worker = job('cap-worker');
    expect(ingress?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(worker?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(ingress?.dns_sd_configs?.[0]).toMatchObject({ names: ['ingress'], port: 8082 });
    // DNS discovery: each scaled worker replica becomes its own target.
    expect(worker?.dns_sd_configs?.[0]).toMatchObject({ names: ['worker'], port: 8081 });
    expect(config.rule_files).toContain('alerts.yml');
  });

  it('discovers annotated pods in Kubernetes and names the jobs like the compose config', () => {
    const pods = k8sConfig.scrape_configs.find((s) => s.kubernetes_sd_configs?.some((k) => k.role === 'pod'));
    expect(pods).toBeDefined();
    const keep = pods!.relabel_configs?.find(
      (r) => r.action === 'keep' && r.source_labels?.[0]?.includes('prometheus_io_scrape'),
    );
    expect(keep?.regex).toBe('true');
    expect(k8sConfig.rule_files).toContain('alerts.yml');
    // Alerts select jobs cap-ingress / cap-worker; in Kubernetes the job is the app.kubernetes.io/name label.
    expect(JSON.stringify(pods!.relabel_configs)).toContain('app_kubernetes_io_name');
  });

  it('alert rules are complete: unique names, a severity, a summary and a description', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.alert, r.expr).toBeTruthy();
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
  });

  it('alerts reference only metrics the platform exports', () => {
    for (const r of rules) {
      const used = metricNames(r.expr);
      expect(used.length, r.alert).toBeGreaterThan(0);
      for (const m of used) expect(isKnownMetric(m), `${r.alert}: ${m}`).toBe(true);
      for (const v of matcherValues(r.expr, 'webhook_deliveries_total', 'outcome'))
        expect(WEBHOOK_OUTCOMES).toContain(v);
      for (const v of matcherValues(r.expr, 'queue_jobs', 'state')) expect(QUEUE_STATES).toContain(v);
      for (const v of matcherValues(r.expr, '[a-z_]+', 'queue')) expect(QUEUE_NAMES).toContain(v);
    }
  });

  it('cover the failure modes operators must hear about', () => {
    const some = (re: RegExp) => exprs.some((e) => re.test(e));
    expect(some(/http_requests_total\{[^}]*status=~"5\.\."/), 'ingress 5xx').toBe(true);
    expect(some(/webhook_deliveries_total\{[^}]*outcome="unavailable"/), 'webhooks unavailable').toBe(true);
    expect(some(/webhook_deliveries_total\{[^}]*outcome="shed"/), 'webhooks shed').toBe(true);
    expect(some(/deriv\(queue_jobs\{[^}]*state="waiting"/), 'backlog growing').toBe(true);
    expect(
      some(/queue_jobs\{[^}]*state="failed"/) || some(/worker_jobs_total\{[^}]*outcome="failed"/),
      'failed jobs',
    ).toBe(true);
    expect(some(/worker_stalled_jobs_total/), 'stalled jobs').toBe(true);
    expect(some(/clockify_rate_limit_blocks_total/), 'rate-limit blocks').toBe(true);
    expect(some(/bootstrap_runs_total\{[^}]*status=~?"[^"]*(?:FAILED|failed)/), 'bootstrap failures').toBe(true);
    expect(some(/clockify_token_verifications_total/), 'verification failures').toBe(true);
  });

  it('links every alert to its runbook, a section of OPERATIONS.md', () => {
    const rules = (
      parse(read('infra/prometheus/alerts.yml')) as {
        groups: { rules: { alert?: string; labels?: { severity?: string }; annotations?: Record<string, string> }[] }[];
      }
    ).groups.flatMap((g) => g.rules.filter((r) => r.alert));
    const anchors = new Set(
      read('OPERATIONS.md')
        .split('\n')
        .filter((l) => /^#{2,4} /.test(l))
        .map((l) => anchorOf(l.replace(/^#+ /, ''))),
    );
    expect(rules.length).toBeGreaterThanOrEqual(20);
    for (const rule of rules) {
      const url = rule.annotations?.runbook_url;
      expect(url, rule.alert).toBe(`OPERATIONS.md#${rule.alert!.toLowerCase()}`);
      expect(anchors.has(url!.split('#')[1]!), `OPERATIONS.md has no section ${rule.alert}`).toBe(true);
      // Alertmanager routes these two severities (infra/alertmanager/alertmanager.yml).
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
    }
  });

  it('has a promtool unit test for every alert', () => {
    const alerts = (parse(read('infra/prometheus/alerts.yml')) as { groups: { rules: { alert?: string }[] }[] }).groups
      .flatMap((g) => g.rules.map((r) => r.alert))
      .filter((a): a is string => a !== undefined);
    const tested = new Set(
      [...read('infra/prometheus/alerts.test.yml').matchAll(/alertname: (\w+)/g)].map((m) => m[1]),
    );
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });

  it('has an Alertmanager config that amtool accepts, paging on critical alerts', (ctx) => {
    const config = parse(read('infra/alertmanager/alertmanager.yml')) as {
      route: { receiver: string; routes: { receiver: string; matchers: string[] }[] };
      receivers: { name: string }[];
    };
    const names = new Set(config.receivers.map((r) => r.name));
    for (const r of [config.route, ...config.route.routes]) expect(names.has(r.receiver), r.receiver).toBe(true);
    expect(config.route.routes.find((r) => r.matchers.includes('severity="critical"'))?.receiver).toBe('pager');
    if (!HAS_AMTOOL) {
      if (process.env.CI === 'true') throw new Error(`${NO_AMTOOL}; CI must check the Alertmanager config`);
      return ctx.skip(NO_AMTOOL);
    }
    const r = spawnSync('amtool', ['check-config', 'alertmanager.yml'], {
      cwd: join(ROOT, 'infra/alertmanager'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it('passes promtool: both configs, rule syntax, and the alert unit tests', (ctx) => {
    requirePromtool(ctx);
    const cwd = join(ROOT, 'infra/prometheus');
    const check = promtool(['check', 'config', 'prometheus.yml'], cwd);
    expect(check.status, check.output).toBe(0);
    // Debian builds Prometheus without Kubernetes discovery, so its promtool refuses
    // `kubernetes_sd_configs`: check the k8s config with that one block swapped for a static
    // target; everything else (relabelling, rule files, intervals) is checked as written.
    const k8s = read('infra/prometheus/prometheus.k8s.yml');
    expect(k8s).toContain('kubernetes_sd_configs:\n      - role: pod\n');
    const dir = mkdtempSync(join(tmpdir(), 'cap-prom-k8s-'));
    try {
      writeFileSync(
        join(dir, 'prometheus.k8s.yml'),
        k8s.replace(
          'kubernetes_sd_configs:\n      - role: pod\n',
          "static_configs:\n      - targets: ['127.0.0.1:8081']\n",
        ),
      );
      writeFileSync(join(dir, 'alerts.yml'), read('infra/prometheus/alerts.yml'));
      const k8sCheck = promtool(['check', 'config', 'prometheus.k8s.yml'], dir);
      expect(k8sCheck.status, `prometheus.k8s.yml: ${k8sCheck.output}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const tests = promtool(['test', 'rules', 'alerts.test.yml'], cwd);
    expect(tests.status, tests.output).toBe(0);
  });
});

interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr: string; refId: string; datasource?: { uid?: string } }>;
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(read('infra/grafana/dashboard.json')) as {
    uid: string;
    title: string;
    panels: GrafanaPanel[];
    templating: { list: Array<{ name: string; type: string; query?: unknown }> };
  };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
  const exprs = targets.map((t) => t.expr);

  it('shows every metric the platform exports (the simulator is not deployed)', () => {
    const exported = [...DEFINED.plain, ...DEFINED.histograms].filter((name) => !name.startsWith('simulator_'));
    const missing = exported.filter((name) => !exprs.some((e) => new RegExp(`\\b${name}(_bucket)?\\b`).test(e)));
    expect(missing, 'metrics on no panel').toEqual([]);
  });

  it('parses and selects its Prometheus data source through a variable', () => {
    expect(dashboard.uid).toBeTruthy();
    expect(dashboard.title).toBeTruthy();
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(ds?.query).toBe('prometheus');
    for (const p of panels) expect(p.datasource?.uid, p.title).toBe(`\${${ds!.name}}`);
    for (const t of targets) expect(t.datasource?.uid ?? `\${${ds!.name}}`, t.panel).toBe(`\${${ds!.name}}`);
  });

  it('queries only metrics the platform exports', () => {
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) {
      const used = metricNames(t.expr.replaceAll('$__rate_interval', '5m'));
      expect(used.length, t.panel).toBeGreaterThan(0);
      for (const m of used) expect(isKnownMetric(m), `${t.panel}: ${m}`).toBe(true);
    }
  });

  it('shows what operators look at first', () => {
    const some = (re: RegExp) => exprs.some((e) => re.test(e));
    expect(some(/sum by \(outcome\) \(rate\(webhook_deliveries_total/), 'webhooks/s by outcome').toBe(true);
    expect(some(/histogram_quantile\(0\.5, .*http_request_duration_seconds_bucket/), 'p50 latency').toBe(true);
    expect(some(/histogram_quantile\(0\.99, .*http_request_duration_seconds_bucket/), 'p99 latency').toBe(true);
    expect(some(/by \(queue, state\) \(queue_jobs/), 'queue depth by state').toBe(true);
    expect(some(/worker_jobs_total/), 'job throughput').toBe(true);
    expect(some(/worker_job_duration_seconds_bucket/), 'job duration').toBe(true);
    expect(some(/clockify_api_requests_total/), 'API requests').toBe(true);
    expect(some(/clockify_api_requests_total\{status="429"\}/), '429s').toBe(true);
  });

  it('lays panels out without overlaps and with unique ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = dashboard.panels.map((p) => p.gridPos);
    for (const [i, a] of boxes.entries()) {
      expect(a.x + a.w).toBeLessThanOrEqual(24);
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(false);
      }
    }
  });

  it('has queries that promtool accepts', (ctx) => {
    requirePromtool(ctx);
    const dir = mkdtempSync(join(tmpdir(), 'cap-dashboard-'));
    try {
      const recording = exprs.map((expr, i) => ({
        record: `dashboard:query_${i}`,
        expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$queue', '.*'),
      }));
      writeFileSync(join(dir, 'rules.json'), JSON.stringify({ groups: [{ name: 'dashboard', rules: recording }] }));
      const r = promtool(['check', 'rules', 'rules.json'], dir);
      expect(r.status, r.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
