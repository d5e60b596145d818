import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addon } from '@cap/workspace-mirror';
import { renderEnvDocs, repoRoot, type EnvDefinition, type EnvVars } from '@cap/config';
import { ingressEnv, prepareManifest } from '@cap/ingress';
import { silentLogger } from '@cap/observability';
import { workerEnv } from '@cap/worker';

/**
 * Files generated from code and committed: ENV_VARS.md (from the config schemas) and
 * manifest.json (from the add-on definition with the documented defaults, never the
 * environment). Tests compare the committed files with these renderings.
 */

export const ENV_VARS_FILE = join(repoRoot(), 'ENV_VARS.md');
export const MANIFEST_FILE = join(repoRoot(), 'manifest.json');

export function renderEnvVarsFile(): string {
  return renderEnvDocs([ingressEnv, workerEnv] as unknown as EnvDefinition<EnvVars>[]);
}

export function renderManifestFile(): string {
  // The documented defaults: parsing an empty environment yields exactly them.
  const defaults = ingressEnv.parse({});
  const manifest = prepareManifest(
    addon,
    {
      baseUrl: defaults.BASE_URL,
      key: defaults.ADDON_KEY ?? addon.key,
      schemaVersion: defaults.MANIFEST_SCHEMA_VERSION,
    },
    silentLogger(),
  );
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function writeIfChanged(path: string, content: string): boolean {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return false;
  writeFileSync(path, content);
  return true;
}
