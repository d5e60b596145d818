// `npm run new-addon -- <name>`: scaffolds an add-on package in addons/<name> that builds, type-
// checks, lints and tests as it is: a definition with a setting, a migration of its own, a page
// and two handlers, and a handler test on @cap/testing/addon's HandlerHarness.
//   node scripts/new-addon.mjs <name> [--dir <folder that holds add-ons>]
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const template = join(root, 'scripts/new-addon/template');

function fail(message) {
  process.stderr.write(`new-addon: ${message}\n`);
  process.exit(1);
}

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' } } });
} catch (err) {
  fail(err.message);
}
const [name, ...extra] = parsed.positionals;
if (!name || extra.length > 0) fail('usage: npm run new-addon -- <name>   (one name, e.g. project-log)');
// The name is the add-on key, the package name and a table prefix: lower-case words and dashes.
if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name) || name.length > 40) {
  fail(
    `"${name}" is not a valid name: use lower-case letters, digits and single dashes, starting with a letter (at most 40)`,
  );
}
const addonsDir = parsed.values.dir ?? join(root, 'addons');
const target = join(addonsDir, name);
if (existsSync(target)) fail(`${relative(process.cwd(), target) || target} already exists`);

const words = name.split('-');
const values = {
  __NAME__: name,
  __SNAKE__: words.join('_'),
  __PASCAL__: words.map((w) => w[0].toUpperCase() + w.slice(1)).join(''),
  __TITLE__: words.map((w) => w[0].toUpperCase() + w.slice(1)).join(' '),
};
const fill = (text) => text.replace(/__(?:NAME|SNAKE|PASCAL|TITLE)__/g, (m) => values[m]);

const written = [];
function copy(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copy(join(from, entry.name), join(to, entry.name));
    else if (entry.name.endsWith('.tpl')) {
      const out = join(to, entry.name.slice(0, -'.tpl'.length));
      writeFileSync(out, fill(readFileSync(join(from, entry.name), 'utf8')));
      written.push(relative(root, out));
    }
  }
}
copy(template, target);

const rel = relative(root, target);
process.stdout.write(
  [
    `Created ${rel}:`,
    ...written.map((f) => `  ${f}`),
    '',
    'Next:',
    '  npm install                      # links the new workspace package',
    `  npm run build --workspace @cap/${name}`,
    `  npx vitest run ${rel}             # its handler tests`,
    '',
    `To run it instead of the example, import { addon } from '@cap/${name}' in apps/ingress/src/main.ts,`,
    'apps/worker/src/main.ts, apps/worker/src/migrate.ts and scripts/all-in-one.mjs (WRITING_AN_ADDON.md).',
    '',
  ].join('\n'),
);
