import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@cap/config';

/** Built entry points of the apps; tests that run real processes use what ships. */
export function distEntry(
  app: 'ingress' | 'worker' | 'simulator',
  file = app === 'simulator' ? 'cli.js' : 'main.js',
): string {
  const path = join(repoRoot(), 'apps', app, 'dist', file);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first (\`npm test\` does)`);
  return path;
}

export function scriptPath(name: string): string {
  return join(repoRoot(), 'scripts', name);
}
