import {
  SUPPORTED_SCHEMA_VERSIONS,
  eventsAllowedIn,
  isSupportedSchemaVersion,
  isWebhookEventName,
  type SupportedSchemaVersion,
} from '../catalog/events.js';
import { isScope, readScopeFor } from '../catalog/scopes.js';
import { manifestSchema } from './schemas.js';
import type { ManifestInput } from './types.js';

/** Clockify accepts at most 20 webhooks per add-on (REFERENCE.md §1.2, manifest docs). */
export const MAX_WEBHOOKS = 20;

export type LintCode =
  | 'schema-version-unsupported'
  | 'key-length'
  | 'name-length'
  | 'event-unknown'
  | 'event-not-in-version'
  | 'event-duplicate'
  | 'too-many-webhooks'
  | 'handler-without-subscription'
  | 'subscription-without-handler'
  | 'scope-unknown'
  | 'scope-duplicate'
  | 'write-scope-without-read'
  | 'component-type-not-in-version'
  | 'path-invalid';

export interface LintIssue {
  code: LintCode;
  /** Names the thing at fault and what would fix it. */
  message: string;
}

export interface LintResult {
  errors: LintIssue[];
  warnings: LintIssue[];
}

export interface LintManifestOptions {
  input: ManifestInput;
  /** Events the add-on has a handler for. */
  handlerEvents: Iterable<string>;
  schemaVersion: SupportedSchemaVersion;
  /** Turns the 20-webhook limit into a warning, e.g. for a private test add-on. */
  allowMoreThan20Webhooks?: boolean;
}

/**
 * Why a path relative to `baseUrl` is unusable, or undefined when it is fine. Clockify appends
 * query parameters (`auth_token`) to component URLs and the ingress routes exact paths, so a path
 * must be a plain, absolute, normalised one.
 */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with "/"';
  if (path.length > 1 && path.endsWith('/')) return 'must not end with "/"';
  if (path === '/') return 'must name a resource, not "/"';
  if (/\s/.test(path)) return 'must not contain whitespace';
  if (path.includes('?') || path.includes('#')) return 'must not carry a query string or fragment';
  if (path.split('/').some((seg) => seg === '..' || seg === '.')) return 'must not contain "." or ".." segments';
  if (path.includes('//')) return 'must not contain an empty segment ("//")';
  return undefined;
}

function lengthRule(
  what: 'key' | 'name',
  value: unknown,
  rule: { minLength?: number; maxLength?: number },
  version: string,
): LintIssue | undefined {
  const min = rule.minLength ?? 0;
  const max = rule.maxLength ?? Number.POSITIVE_INFINITY;
  const len = typeof value === 'string' ? value.length : -1;
  if (len >= min && len <= max) return undefined;
  const bounds = Number.isFinite(max) ? `${min}–${max}` : `at least ${min}`;
  const got = len < 0 ? 'not a string' : `${len} character${len === 1 ? '' : 's'}`;
  return {
    code: what === 'key' ? 'key-length' : 'name-length',
    message: `Add-on ${what} must be ${bounds} characters long (schema ${version}); got ${got}.`,
  };
}

/**
 * Checks an add-on definition before its manifest is built: things the schema cannot see
 * (handlers, the webhook limit, path hygiene, READ scopes) and the schema's own rules phrased
 * in the add-on author's terms. Errors should stop a build; warnings should be read.
 */
export function lintManifestInput(options: LintManifestOptions): LintResult {
  const { input, schemaVersion } = options;
  const errors: LintIssue[] = [];
  const warnings: LintIssue[] = [];

  if (!isSupportedSchemaVersion(schemaVersion)) {
    errors.push({
      code: 'schema-version-unsupported',
      message: `Schema version ${String(schemaVersion)} is not supported; use one of ${SUPPORTED_SCHEMA_VERSIONS.join(', ')}.`,
    });
    return { errors, warnings };
  }
  const schema = manifestSchema(schemaVersion);

  for (const issue of [
    lengthRule('key', input.key, schema.properties.key, schemaVersion),
    lengthRule('name', input.name, schema.properties.name, schemaVersion),
  ]) {
    if (issue) errors.push(issue);
  }

  // Events
  const allowed = new Set<string>(eventsAllowedIn(schemaVersion));
  const subscribed = new Set<string>();
  const reportedDuplicates = new Set<string>();
  for (const event of input.events as readonly string[]) {
    if (subscribed.has(event)) {
      if (!reportedDuplicates.has(event)) {
        reportedDuplicates.add(event);
        errors.push({ code: 'event-duplicate', message: `Event ${event} is subscribed more than once; list it once.` });
      }
      continue;
    }
    subscribed.add(event);
    if (!isWebhookEventName(event)) {
      errors.push({
        code: 'event-unknown',
        message: `Event ${JSON.stringify(event)} is not a Clockify webhook event.`,
      });
    } else if (!allowed.has(event)) {
      errors.push({
        code: 'event-not-in-version',
        message: `Event ${event} is not allowed by manifest schema ${schemaVersion}; remove it or choose a schema version that allows it.`,
      });
    }
  }

  if (subscribed.size > MAX_WEBHOOKS) {
    const issue: LintIssue = {
      code: 'too-many-webhooks',
      message: `The add-on subscribes to ${subscribed.size} events, but Clockify accepts at most ${MAX_WEBHOOKS} webhooks per add-on.`,
    };
    (options.allowMoreThan20Webhooks ? warnings : errors).push(issue);
  }

  const handled = new Set<string>(options.handlerEvents);
  for (const event of [...handled].sort()) {
    if (subscribed.has(event)) continue;
    if (!isWebhookEventName(event)) {
      errors.push({
        code: 'event-unknown',
        message: `A handler is registered for ${JSON.stringify(event)}, which is not a Clockify webhook event.`,
      });
    } else {
      errors.push({
        code: 'handler-without-subscription',
        message: `A handler is registered for ${event}, but the add-on does not subscribe to it, so it would never run; add ${event} to the events or remove the handler.`,
      });
    }
  }
  for (const event of [...subscribed].sort()) {
    if (!handled.has(event) && isWebhookEventName(event)) {
      errors.push({
        code: 'subscription-without-handler',
        message: `The add-on subscribes to ${event} but has no handler for it; add a handler or remove the subscription.`,
      });
    }
  }

  // Scopes
  const scopes = new Set<string>();
  for (const scope of input.scopes as readonly string[]) {
    if (scopes.has(scope)) {
      errors.push({ code: 'scope-duplicate', message: `Scope ${scope} is listed more than once.` });
      continue;
    }
    scopes.add(scope);
    if (!isScope(scope)) {
      errors.push({ code: 'scope-unknown', message: `Scope ${JSON.stringify(scope)} is not a Clockify API scope.` });
    }
  }
  for (const scope of scopes) {
    if (!isScope(scope)) continue;
    const read = readScopeFor(scope);
    if (read !== scope && !scopes.has(read)) {
      warnings.push({
        code: 'write-scope-without-read',
        message: `Scope ${scope} is requested without ${read}; WRITE does not imply READ, so reads of that resource will be refused.`,
      });
    }
  }

  // Components and paths
  const componentTypes = new Set(schema.definitions.component.properties.type.enum);
  const checkPath = (what: string, path: unknown) => {
    const problem = typeof path === 'string' ? pathProblem(path) : 'must be a string';
    if (problem) errors.push({ code: 'path-invalid', message: `${what} ${JSON.stringify(path)} ${problem}.` });
  };
  if (input.iconPath !== undefined) checkPath('iconPath', input.iconPath);
  if (typeof input.settings === 'string') checkPath('Settings path', input.settings);
  (input.components ?? []).forEach((c, i) => {
    const label = `Component ${i} (${c.type}${c.label ? ` "${c.label}"` : ''})`;
    if (!componentTypes.has(c.type)) {
      errors.push({
        code: 'component-type-not-in-version',
        message: `${label}: type ${JSON.stringify(c.type)} is not allowed by manifest schema ${schemaVersion}.`,
      });
    }
    checkPath(`${label} path`, c.path);
    if (c.iconPath !== undefined) checkPath(`${label} iconPath`, c.iconPath);
  });

  return { errors, warnings };
}
