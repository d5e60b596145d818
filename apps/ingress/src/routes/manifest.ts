import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertValidManifest, buildManifest, lintManifestInput, type Manifest } from '@cap/clockify';
import { manifestInputOf, type RegisteredAddon } from '@cap/addon';
import type { Logger } from '@cap/observability';

export class ManifestError extends Error {
  override name = 'ManifestError';
}

/**
 * The manifest served at /manifest: built from the add-on definition and the environment
 * (BASE_URL, ADDON_KEY, MANIFEST_SCHEMA_VERSION), linted, and validated against the official
 * schema of that version. Problems stop start-up with the schema's own error paths.
 */
export function prepareManifest(
  addon: RegisteredAddon,
  opts: { baseUrl: string; key: string; schemaVersion: '1.5' | '1.6' },
  logger: Logger,
): Manifest {
  const input = manifestInputOf(addon);
  const lint = lintManifestInput({
    input,
    handlerEvents: Object.keys(addon.handlers),
    schemaVersion: opts.schemaVersion,
    ...(addon.lint?.allowMoreThan20Webhooks ? { allowMoreThan20Webhooks: true } : {}),
  });
  for (const w of lint.warnings) logger.warn({ code: w.code }, `manifest: ${w.message}`);
  if (lint.errors.length > 0) {
    throw new ManifestError(
      `the add-on definition has problems:\n${lint.errors.map((e) => `  - ${e.message}`).join('\n')}`,
    );
  }
  const manifest = buildManifest(input, opts);
  try {
    assertValidManifest(manifest, opts.schemaVersion);
  } catch (err) {
    throw new ManifestError((err as Error).message);
  }
  return manifest;
}

/** The add-on icon served at the manifest's `iconPath`. */
export const ICON_SVG = readFileSync(fileURLToPath(new URL('../../assets/icon.svg', import.meta.url)), 'utf8');
