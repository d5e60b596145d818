import { MANIFEST_FILE, renderManifestFile, writeIfChanged } from './generated.js';

console.log(
  writeIfChanged(MANIFEST_FILE, renderManifestFile()) ? `wrote ${MANIFEST_FILE}` : `${MANIFEST_FILE} is up to date`,
);
