import AjvDraft04 from 'ajv-draft-04';
import type { ErrorObject, ValidateFunction } from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { OperationCatalog, type Operation, type OperationParam } from './operations.js';

/**
 * The general call: any operation of the official spec, named by `operationId` or by method and
 * path template, with its parameters and body checked against the spec before anything is sent.
 */

/** An operation by id (`getTags`) or by method and template (`GET /v1/workspaces/{workspaceId}/tags`). */
export type OperationRef = string | { readonly method: string; readonly path: string };

export interface CallInput {
  /** Path parameters other than `workspaceId` (which comes from the installation). */
  readonly path?: Readonly<Record<string, string | number>>;
  /** Query parameters: strings, numbers, booleans, or arrays of them for list parameters. */
  readonly query?: Readonly<Record<string, unknown>>;
  /** The JSON body, for operations that take one. */
  readonly body?: unknown;
}

export interface CallProblem {
  /** Where the problem is: the operation itself, a path or query parameter, or the body. */
  readonly in: 'operation' | 'path' | 'query' | 'body';
  /** The parameter, or the body's JSON pointer (`/name`; empty for the body as a whole). */
  readonly name?: string;
  readonly message: string;
}

/** A call refused before anything was sent: an unknown operation or input the spec does not allow. */
export class CallValidationError extends Error {
  override readonly name = 'CallValidationError';
  /** The operation as given (`getTags`, `GET /v1/...`). */
  readonly operation: string;
  readonly problems: readonly CallProblem[];

  constructor(operation: string, problems: readonly CallProblem[]) {
    super(
      `${operation}: ${problems
        .slice(0, 5)
        .map((p) =>
          p.name !== undefined && p.name !== '' ? `${p.in} "${p.name}": ${p.message}` : `${p.in}: ${p.message}`,
        )
        .join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
    );
    this.operation = operation;
    this.problems = problems;
  }
}

const MAX_PROBLEMS = 20;
const INTEGER = /^-?\d+$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** The operation a reference names; throws {@link CallValidationError} when the spec has none. */
export function resolveOperation(ref: OperationRef, catalog = OperationCatalog.official()): Operation {
  if (typeof ref === 'string') {
    const space = ref.indexOf(' ');
    const op = space > 0 ? catalog.find(ref.slice(0, space), ref.slice(space + 1).trim()) : catalog.get(ref);
    if (op) return op;
    throw new CallValidationError(ref, [{ in: 'operation', message: 'not an operation of the Clockify API spec' }]);
  }
  const op = catalog.find(ref.method, ref.path);
  if (op) return op;
  const label = `${String(ref.method).toUpperCase()} ${ref.path}`;
  throw new CallValidationError(label, [{ in: 'operation', message: 'not an operation of the Clockify API spec' }]);
}

/**
 * Every problem with `input` for `op` (at most 20), none when the call may be sent: unknown,
 * missing or ill-typed path and query parameters, values outside an enum or range, a body where
 * none is taken, a missing required body, a body that fails the operation's schema.
 */
export function validateCall(op: Operation, input: CallInput, catalog = OperationCatalog.official()): CallProblem[] {
  const problems: CallProblem[] = [];
  const declared = (where: 'path' | 'query') => op.params.filter((p) => p.in === where);

  const pathParams = input.path ?? {};
  if (!isPlainObject(pathParams)) problems.push({ in: 'path', message: 'must be an object of parameters' });
  else {
    for (const name of Object.keys(pathParams)) {
      if (name === 'workspaceId') {
        problems.push({ in: 'path', name, message: 'comes from the installation; do not pass it' });
      } else if (!declared('path').some((p) => p.name === name)) {
        problems.push({ in: 'path', name, message: 'is not a path parameter of this operation' });
      }
    }
    for (const p of declared('path')) {
      if (p.name === 'workspaceId') continue;
      const value = pathParams[p.name];
      if (value === undefined) problems.push({ in: 'path', name: p.name, message: 'is required' });
      else if ((typeof value !== 'string' && typeof value !== 'number') || String(value) === '') {
        problems.push({ in: 'path', name: p.name, message: 'must be a non-empty string' });
      } else if (String(value).length > 200) {
        problems.push({ in: 'path', name: p.name, message: 'is longer than 200 characters' });
      } else if (String(value) === '.' || String(value) === '..') {
        problems.push({ in: 'path', name: p.name, message: 'must not be . or ..' });
      }
    }
  }

  const query = input.query ?? {};
  if (!isPlainObject(query)) problems.push({ in: 'query', message: 'must be an object of parameters' });
  else {
    for (const name of Object.keys(query)) {
      if (!declared('query').some((p) => p.name === name)) {
        problems.push({ in: 'query', name, message: 'is not a query parameter of this operation' });
      }
    }
    for (const p of declared('query')) {
      const value = query[p.name];
      if (value === undefined || value === null) {
        if (p.required) problems.push({ in: 'query', name: p.name, message: 'is required' });
        continue;
      }
      const message = checkQueryValue(p, value);
      if (message) problems.push({ in: 'query', name: p.name, message });
    }
  }

  if (op.body === undefined) {
    if (input.body !== undefined) problems.push({ in: 'body', message: 'this operation takes no body' });
  } else if (input.body === undefined) {
    if (op.body.required) problems.push({ in: 'body', message: 'is required' });
  } else {
    const validate = bodyValidator(op, catalog);
    if (!validate)
      problems.push({ in: 'body', message: "cannot be checked: the spec's schema for it does not compile" });
    else if (!validate(input.body)) {
      for (const e of validate.errors ?? []) problems.push({ in: 'body', name: e.instancePath, message: describe(e) });
    }
  }
  return problems.slice(0, MAX_PROBLEMS);
}

/** The query as Clockify reads it: scalars as strings, list parameters as repeated values. */
export function queryStrings(
  op: Operation,
  query: Readonly<Record<string, unknown>> = {},
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    const param = op.params.find((p) => p.in === 'query' && p.name === name);
    out[name] = param?.type === 'array' && Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

function checkQueryValue(p: OperationParam, value: unknown): string | undefined {
  if (p.type === 'array') {
    const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value];
    if (items.length > 500) return 'has more than 500 values';
    for (const item of items) {
      const m = checkScalar(p.itemType ?? 'string', p.itemEnum, undefined, undefined, item);
      if (m) return m;
    }
    return undefined;
  }
  if (Array.isArray(value)) return 'takes one value, not a list';
  return checkScalar(p.type, p.enum, p.minimum, p.maximum, value);
}

function checkScalar(
  type: string,
  allowed: readonly string[] | undefined,
  minimum: number | undefined,
  maximum: number | undefined,
  value: unknown,
): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    return 'must be a string, a number or a boolean';
  }
  const text = String(value);
  if (text.length > 2000) return 'is longer than 2000 characters';
  if (type === 'integer' && !INTEGER.test(text)) return `must be an integer, got "${clip(text)}"`;
  if (type === 'number' && !NUMBER.test(text)) return `must be a number, got "${clip(text)}"`;
  if (type === 'boolean' && text !== 'true' && text !== 'false') return `must be true or false, got "${clip(text)}"`;
  if (allowed && !allowed.includes(text)) return `must be one of ${allowed.join(', ')}, got "${clip(text)}"`;
  if (type === 'integer' || type === 'number') {
    const n = Number(text);
    if (minimum !== undefined && n < minimum) return `must be at least ${minimum}`;
    if (maximum !== undefined && n > maximum) return `must be at most ${maximum}`;
  }
  return undefined;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') {
    return `has an unknown property "${String((e.params as { additionalProperty?: unknown }).additionalProperty)}"`;
  }
  if (e.keyword === 'enum') {
    return `must be one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).map(String).join(', ')}`;
  }
  return e.message ?? `fails "${e.keyword}"`;
}

function clip(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}…` : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// CommonJS packages: under NodeNext the class and the plugin sit on `.default` (as in manifest/validate.ts).
const Ajv = AjvDraft04.default;
const SPEC_ID = 'clockify-openapi';
const validators = new WeakMap<
  OperationCatalog,
  { ajv: InstanceType<typeof Ajv>; byOperation: Map<string, ValidateFunction | null> }
>();

/**
 * The compiled body schema of an operation (cached). The spec's schemas are OpenAPI 3.0 (draft-04
 * style with `nullable`), compiled leniently: keywords JSON Schema does not know (`example`,
 * `discriminator`) are ignored, `int32`/`int64` formats accepted. Null when the schema itself cannot
 * be compiled: the call is then refused, since its body cannot be checked.
 */
function bodyValidator(op: Operation, catalog: OperationCatalog): ValidateFunction | null {
  let entry = validators.get(catalog);
  if (!entry) {
    const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateSchema: false });
    addFormats.default(ajv);
    for (const format of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'])
      ajv.addFormat(format, true);
    const bodies = Object.fromEntries(
      catalog.operations.flatMap((o) => (o.body ? [[o.operationId, o.body.schema]] : [])),
    );
    ajv.addSchema({ $id: SPEC_ID, components: { schemas: catalog.schemas }, bodies }, SPEC_ID);
    entry = { ajv, byOperation: new Map() };
    validators.set(catalog, entry);
  }
  if (!entry.byOperation.has(op.operationId)) {
    let compiled: ValidateFunction | null;
    try {
      compiled = entry.ajv.compile({ $ref: `${SPEC_ID}#/bodies/${escapePointer(op.operationId)}` });
    } catch {
      compiled = null;
    }
    entry.byOperation.set(op.operationId, compiled);
  }
  return entry.byOperation.get(op.operationId) ?? null;
}

function escapePointer(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}
