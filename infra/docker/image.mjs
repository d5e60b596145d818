// The steps of the app images that are more than one command, shared by the Dockerfiles and by
// test/images.test.ts (which runs them outside Docker, as this repository's CI has no engine):
//
//   node image.mjs prune <app> <out>    (in the repository root)
//     <out>/json  package manifests and the lockfile cut to the app's workspaces (turbo prune
//                 --docker): everything the build installs, dev dependencies included;
//     <out>/full  those workspaces' sources, plus tsconfig.base.json, which every package extends;
//     <out>/prod  <out>/json narrowed to the workspaces the app *runs* (its `dependencies`,
//                 followed through workspaces), for `npm ci --omit=dev`: a workspace the app only
//                 tests with (the worker's @cap/ingress, @cap/simulator, @cap/testing) is not
//                 installed, nor its dependencies.
//   node image.mjs collect <app> <out>  (in a built tree)
//     what the runtime needs of the workspaces the app runs: package.json and its "files" (dist/,
//     and data/ or assets/ where a package reads files at run time).
//
// No dependency: it runs in a stage that has only Node, npm and turbo.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const APPS = ['ingress', 'worker', 'simulator'];

/** Workspace folders (relative) by package name, read from the root package.json's globs. */
function workspaces(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const byName = new Map();
  for (const pattern of pkg.workspaces ?? []) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => `${pattern.slice(0, -2)}/${d.name}`)
      : [pattern];
    for (const dir of dirs) {
      const file = join(root, dir, 'package.json');
      if (existsSync(file)) byName.set(JSON.parse(readFileSync(file, 'utf8')).name, dir);
    }
  }
  return byName;
}

/** The folders of the workspaces `@cap/<app>` needs at run time: itself and, transitively, the
 * workspaces among its dependencies (optional and peer ones included; devDependencies not). */
function runtimeWorkspaces(root, app) {
  const byName = workspaces(root);
  const start = `@cap/${app}`;
  if (!byName.has(start)) throw new Error(`no workspace named ${start} under ${root}`);
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.shift();
    const pkg = JSON.parse(readFileSync(join(root, byName.get(name), 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
      if (byName.has(dep) && !seen.has(dep)) {
        seen.add(dep);
        queue.push(dep);
      }
    }
  }
  return [...seen].map((name) => byName.get(name)).sort();
}

function prune(app, out) {
  const local = join('node_modules', '.bin', 'turbo');
  const turbo = spawnSync(existsSync(local) ? local : 'turbo', ['prune', `@cap/${app}`, '--docker', '--out-dir', out], {
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (turbo.status !== 0) throw new Error(`turbo prune @cap/${app} failed (exit ${turbo.status})`);
  cpSync('tsconfig.base.json', join(out, 'full', 'tsconfig.base.json'));
  const prod = join(out, 'prod');
  cpSync(join(out, 'json'), prod, { recursive: true });
  const keep = runtimeWorkspaces(prod, app);
  const pkg = JSON.parse(readFileSync(join(prod, 'package.json'), 'utf8'));
  pkg.workspaces = keep;
  writeFileSync(join(prod, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  console.log(`@cap/${app} runs with ${keep.join(', ')}`);
}

function collect(app, out) {
  mkdirSync(out, { recursive: true });
  // package.json and turbo.json mark the repository root for the code that looks for it.
  for (const f of ['package.json', 'turbo.json']) cpSync(f, join(out, f));
  for (const dir of runtimeWorkspaces('.', app)) {
    mkdirSync(join(out, dir), { recursive: true });
    cpSync(join(dir, 'package.json'), join(out, dir, 'package.json'));
    // package.json "files": what the workspace reads at run time (test/infra.test.ts checks each
    // declares one), as npm would pack it.
    const { files } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (!Array.isArray(files)) throw new Error(`${dir}/package.json declares no "files"`);
    for (const sub of files) {
      if (!existsSync(join(dir, sub))) throw new Error(`${dir}/${sub} is missing: build @cap/${app} first`);
      cpSync(join(dir, sub), join(out, dir, sub), { recursive: true });
    }
  }
}

const [command, app, out] = process.argv.slice(2);
if (!['prune', 'collect'].includes(command) || !APPS.includes(app) || !out) {
  console.error(`usage: node image.mjs prune|collect <${APPS.join('|')}> <out-dir>`);
  process.exit(2);
}
(command === 'prune' ? prune : collect)(app, out);
