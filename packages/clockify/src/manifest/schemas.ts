import { type ManifestSchemaVersion, isManifestSchemaVersion } from '../catalog/events.js';
import { readClockifyData } from '../data.js';

/** The parts of an official manifest schema this package reads besides validating with it. */
export interface ManifestSchemaDocument {
  version: string;
  properties: {
    key: { minLength?: number; maxLength?: number };
    name: { minLength?: number; maxLength?: number };
  } & Record<string, unknown>;
  definitions: {
    webhook: { properties: { event: { enum: string[] } } };
    scope: { enum: string[] };
    component: { properties: { type: { enum: string[] } } };
  } & Record<string, unknown>;
  [key: string]: unknown;
}

const documents = new Map<ManifestSchemaVersion, ManifestSchemaDocument>();

/** The official JSON Schema (draft-04) of `version`, parsed once per process. */
export function manifestSchema(version: ManifestSchemaVersion): ManifestSchemaDocument {
  if (!isManifestSchemaVersion(version)) throw new Error(`Unknown manifest schema version: ${String(version)}`);
  let doc = documents.get(version);
  if (!doc) {
    doc = JSON.parse(readClockifyData(`manifest-schemas/${version}.json`)) as ManifestSchemaDocument;
    if (doc.version !== version) {
      throw new Error(`manifest-schemas/${version}.json declares version ${doc.version}`);
    }
    documents.set(version, doc);
  }
  return doc;
}
