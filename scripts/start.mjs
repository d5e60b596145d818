// The launcher behind `npm start`, `npm run start:ingress`, `npm run start:worker` and
// `npm run db:migrate`. It builds what is missing or stale (turbo caches the rest), then:
//   all (default)  DATABASE_URL unset → ingress + worker in one process on embedded PGlite;
//                  DATABASE_URL set   → migrations, then one ingress and one worker process.
//   ingress|worker exactly one process of that app, same environment.
//   migrate        apply migrations and exit.
//   cli …          operator commands (dead letters, bootstraps); arguments follow.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstRunAdmin } from './first-run-admin.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'all';
const MODES = ['all', 'ingress', 'worker', 'migrate', 'cli'];
if (!MODES.includes(mode)) {
  console.error(`unknown mode ${mode}; expected one of ${MODES.join(', ')}`);
  process.exit(2);
}

if (process.env.SKIP_BUILD !== '1') {
  const build = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (build.status !== 0) {
    console.error('build failed; see the errors above');
    process.exit(build.status ?? 1);
  }
}

// The apps (and the banner) read these from the environment; children inherit it.
if (mode === 'all' || mode === 'ingress') {
  firstRunAdmin(process.env, process.env.DATA_DIR || join(root, '.data'));
}

const entry = {
  ingress: join(root, 'apps/ingress/dist/main.js'),
  worker: join(root, 'apps/worker/dist/main.js'),
  migrate: join(root, 'apps/worker/dist/migrate.js'),
  cli: join(root, 'apps/worker/dist/cli/index.js'),
  'all-in-one': join(root, 'scripts/all-in-one.mjs'),
};

const exitOf = new WeakMap();

/** Runs a node script as a child that gets the same environment and signals. */
function run(script) {
  const child = spawn(process.execPath, [script], { cwd: root, stdio: 'inherit', env: process.env });
  // Listened to from the start, so asking after the child ended still gets its code.
  exitOf.set(child, new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))));
  return child;
}

/** The exit code of a child started by run(), whenever it ended. */
function waitFor(child) {
  return exitOf.get(child);
}

if (mode === 'cli') {
  // The CLI reads its own arguments from process.argv: drop the launcher's mode.
  process.argv.splice(2, 1);
  await import(entry.cli);
} else if (mode === 'ingress' || mode === 'worker' || mode === 'migrate') {
  await import(entry[mode]);
} else if (!process.env.DATABASE_URL) {
  await import(entry['all-in-one']);
} else {
  const migrate = await waitFor(run(entry.migrate));
  if (migrate !== 0) process.exit(migrate);
  const children = [run(entry.ingress), run(entry.worker)];
  let stopping = false;
  const stop = (signal) => {
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const first = await Promise.race(children.map((c) => waitFor(c).then((code) => ({ c, code }))));
  if (!stopping) {
    console.error(`a process exited unexpectedly (code ${first.code}); stopping the other`);
    stop('SIGTERM');
  }
  const codes = await Promise.all(children.map(waitFor));
  process.exit(stopping ? Math.max(...codes) : first.code || 1);
}
