// `npm run dev`: ingress + worker in one process, restarted on every source change, running the
// TypeScript sources directly (packages resolve to src/ through the `source` export condition).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstRunAdmin } from './first-run-admin.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
firstRunAdmin(process.env, process.env.DATA_DIR || join(root, '.data'));
const child = spawn(
  process.execPath,
  [
    join(root, 'node_modules/tsx/dist/cli.mjs'),
    'watch',
    '--clear-screen=false',
    '--conditions=source',
    join(root, 'scripts/all-in-one.mjs'),
  ],
  { cwd: root, stdio: 'inherit', env: process.env },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
