import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv-draft-04';
import type { ManifestSchemaVersion } from '../catalog/events.js';
import { manifestSchema } from './schemas.js';

export interface ManifestValidationIssue {
  /** JSON Pointer into the manifest as the schema reports it, e.g. `/webhooks/3/event`; `` is the root. */
  path: string;
  message: string;
  /** The schema keyword that failed (`enum`, `required`, `pattern`, …). */
  keyword: string;
}

export interface ManifestValidationResult {
  valid: boolean;
  errors: ManifestValidationIssue[];
}

// Both packages are CommonJS with a `default` export; under NodeNext the default import is the
// module object, so the class and the plugin sit on `.default`.
const Ajv = AjvDraft04.default;

let ajv: InstanceType<typeof Ajv> | undefined;
const validators = new Map<ManifestSchemaVersion, ValidateFunction>();

function validatorFor(version: ManifestSchemaVersion): ValidateFunction {
  let validate = validators.get(version);
  if (validate) return validate;
  if (!ajv) {
    ajv = new Ajv({
      allErrors: true,
      verbose: true,
      // The schemas mix `minLength` and `minimum` on a string-or-integer field; that is valid
      // draft-04, only ajv's stricter typing dislikes it.
      strictTypes: false,
      logger: false,
    });
    // Annotations the official schemas use that are not validation keywords.
    ajv.addKeyword('version');
    ajv.addKeyword('example');
    addFormats.default(ajv);
  }
  validate = ajv.compile(manifestSchema(version));
  validators.set(version, validate);
  return validate;
}

const MAX_SHOWN_VALUE = 80;

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN_VALUE ? `${text.slice(0, MAX_SHOWN_VALUE)}…` : text;
}

function issueOf(e: ErrorObject): ManifestValidationIssue {
  let message = e.message ?? `fails "${e.keyword}"`;
  // Name the offending value where the schema's message alone would not.
  if (e.keyword === 'enum' || e.keyword === 'type' || e.keyword === 'pattern' || e.keyword === 'format') {
    message += ` (got ${shown(e.data)})`;
  }
  return { path: e.instancePath, message, keyword: e.keyword };
}

/** Validates `manifest` against the official schema of `version` (compiled once per version). */
export function validateManifest(manifest: unknown, version: ManifestSchemaVersion): ManifestValidationResult {
  const validate = validatorFor(version);
  if (validate(manifest)) return { valid: true, errors: [] };
  return { valid: false, errors: (validate.errors ?? []).map(issueOf) };
}

export class ManifestValidationError extends Error {
  override readonly name = 'ManifestValidationError';

  constructor(
    readonly version: ManifestSchemaVersion,
    readonly errors: readonly ManifestValidationIssue[],
  ) {
    super(
      `Manifest does not match schema ${version} (${errors.length} error${errors.length === 1 ? '' : 's'}):\n` +
        errors.map((e) => `  ${e.path || '(root)'}: ${e.message}`).join('\n'),
    );
  }
}

export function assertValidManifest(manifest: unknown, version: ManifestSchemaVersion): void {
  const result = validateManifest(manifest, version);
  if (!result.valid) throw new ManifestValidationError(version, result.errors);
}
