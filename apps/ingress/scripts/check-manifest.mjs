// Run by `npm run build` after compiling: the add-on definition must produce a manifest that
// passes the lint and the official schema of the default version, or the build fails here
// instead of at start-up (or at marketplace review).
import { addon } from '@cap/workspace-mirror';
import { silentLogger } from '@cap/observability';
import { ingressEnv, prepareManifest } from '../dist/index.js';

const defaults = ingressEnv.parse({});
try {
  const manifest = prepareManifest(
    addon,
    {
      baseUrl: defaults.BASE_URL,
      key: defaults.ADDON_KEY ?? addon.key,
      schemaVersion: defaults.MANIFEST_SCHEMA_VERSION,
    },
    silentLogger(),
  );
  console.log(`manifest ok: ${manifest.key} (schema ${manifest.schemaVersion}, ${manifest.webhooks.length} webhooks)`);
} catch (err) {
  console.error(`manifest check failed: ${err.message}`);
  process.exit(1);
}
