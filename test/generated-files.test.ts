import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateManifest } from '@cap/clockify';
import { ENV_VARS_FILE, MANIFEST_FILE, renderEnvVarsFile, renderManifestFile } from '../scripts/generated.js';

describe('generated files', () => {
  it('ENV_VARS.md matches the config schemas (run `npm run docs:env` after changing a variable)', () => {
    expect(readFileSync(ENV_VARS_FILE, 'utf8')).toBe(renderEnvVarsFile());
  });

  it('manifest.json matches the add-on definition (run `npm run manifest` after changing it)', () => {
    expect(readFileSync(MANIFEST_FILE, 'utf8')).toBe(renderManifestFile());
  });

  it('the committed manifest.json validates against the official schema of its version', () => {
    const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as { schemaVersion: '1.5' | '1.6' };
    expect(validateManifest(manifest as never, manifest.schemaVersion)).toEqual({ valid: true, errors: [] });
  });
});
