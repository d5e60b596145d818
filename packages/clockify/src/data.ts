import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of a file under `packages/clockify/data` (copies of official Clockify material,
 * see data/PROVENANCE.md). Works from `src/` and from `dist/`, which sit at the same depth.
 */
export function clockifyDataPath(name: string): string {
  return fileURLToPath(new URL(`../data/${name}`, import.meta.url));
}

export function readClockifyData(name: string): string {
  return readFileSync(clockifyDataPath(name), 'utf8');
}
