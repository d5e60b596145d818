import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIFECYCLE_PATHS, validateManifest, type Manifest } from '@cap/clockify';
import { addon } from '@cap/workspace-mirror';
import { startTestIngress, type TestIngress } from './helpers.js';

const BASE_URL = 'https://mirror.example.test/cap';
const KEY = 'mirror-under-test';

let t: TestIngress;
beforeAll(async () => {
  t = await startTestIngress({ BASE_URL, ADDON_KEY: KEY });
});
afterAll(async () => {
  await t?.close();
});

describe('GET /manifest', () => {
  it.each(['/manifest', '/manifest.json'])(
    '%s serves the manifest of this environment, valid against the official schema',
    async (path) => {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const manifest = (await res.json()) as Manifest;

      expect(manifest.baseUrl).toBe(BASE_URL);
      expect(manifest.key).toBe(KEY);
      expect(manifest.schemaVersion).toBe('1.6');
      expect(validateManifest(manifest, '1.6')).toEqual({ valid: true, errors: [] });

      expect(manifest.webhooks).toHaveLength(20);
      expect(new Set(manifest.webhooks.map((w) => w.event))).toEqual(new Set(addon.events));
      for (const w of manifest.webhooks) {
        expect(w.path).toBe(`/webhooks/${w.event.toLowerCase().replaceAll('_', '-')}`);
      }
      expect(manifest.lifecycle).toEqual(Object.entries(LIFECYCLE_PATHS).map(([type, p]) => ({ type, path: p })));
      expect(manifest.lifecycle.map((l) => l.path)).toEqual([
        '/lifecycle/installed',
        '/lifecycle/deleted',
        '/lifecycle/settings-updated',
        '/lifecycle/status-changed',
      ]);
      expect(t.queries).toEqual([]);
    },
  );

  it('every path the manifest names is served by this ingress', async () => {
    const manifest = (await (await fetch(`${t.url}/manifest`)).json()) as Manifest;
    // Webhooks and lifecycle are POST-only: an unsigned GET must be refused as a method, not a 404.
    for (const w of manifest.webhooks) {
      const res = await fetch(`${t.url}${w.path}`);
      expect(res.status, w.path).toBe(405);
    }
    const icon = await fetch(`${t.url}${manifest.iconPath}`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await icon.text()).toContain('<svg');
    for (const c of manifest.components ?? []) {
      // Components need a user token; without one they answer 401, which proves the route exists.
      expect((await fetch(`${t.url}${c.path}`)).status, c.path).toBe(401);
    }
  });
});
