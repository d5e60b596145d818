import {
  OperationCatalog,
  parseOperations,
  segmentsOf,
  type Operation,
  type OperationMatch,
  type OperationParam,
} from '@cap/clockify';

/**
 * The operations of Clockify's official OpenAPI document (packages/clockify/data), indexed for
 * request matching and parameter validation. The mock recognizes exactly these operations, so an
 * add-on that calls something Clockify does not have fails here as it would in production.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** The simulator reads the operations from the same catalog as the platform's general call. */
export type ParamSpec = OperationParam;
export type OperationSpec = Operation;
export type { OperationMatch };
export { OperationCatalog as OperationIndex, parseOperations };

export interface ParamProblem {
  readonly param: string;
  readonly message: string;
}

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * Checks the query parameters of a request against the operation: required ones present,
 * declared enums respected, integers and booleans well-formed and in range. Returns the first
 * problem, worded like Spring (which Clockify runs on) so clients see familiar messages.
 */
export function validateQuery(op: OperationSpec, query: URLSearchParams): ParamProblem | undefined {
  for (const p of op.params) {
    if (p.in !== 'query') continue;
    const values = query.getAll(p.name);
    if (values.length === 0) {
      if (p.required) {
        return {
          param: p.name,
          message: `Required request parameter '${p.name}' for method parameter type ${javaType(p)} is not present`,
        };
      }
      continue;
    }
    const items = p.type === 'array' ? values.flatMap((v) => v.split(',')).map((v) => v.trim()) : [values[0] as string];
    const allowed = p.type === 'array' ? p.itemEnum : p.enum;
    const type = p.type === 'array' ? (p.itemType ?? 'string') : p.type;
    for (const value of items) {
      if (allowed && !allowed.includes(value)) {
        return {
          param: p.name,
          message: `Failed to convert value '${clip(value)}' of parameter '${p.name}': allowed values are ${allowed.join(', ')}`,
        };
      }
      if (type === 'integer' && !INTEGER.test(value)) {
        return {
          param: p.name,
          message: `Failed to convert value '${clip(value)}' of parameter '${p.name}' to required type int`,
        };
      }
      if (type === 'number' && !NUMBER.test(value)) {
        return {
          param: p.name,
          message: `Failed to convert value '${clip(value)}' of parameter '${p.name}' to required type double`,
        };
      }
      if (type === 'boolean' && value !== 'true' && value !== 'false') {
        return {
          param: p.name,
          message: `Failed to convert value '${clip(value)}' of parameter '${p.name}' to required type boolean`,
        };
      }
      if (
        (type === 'integer' || type === 'number' || NUMBER.test(value)) &&
        (p.minimum !== undefined || p.maximum !== undefined)
      ) {
        const n = Number(value);
        if (p.minimum !== undefined && n < p.minimum) {
          return { param: p.name, message: `Parameter '${p.name}' must be greater than or equal to ${p.minimum}` };
        }
        if (p.maximum !== undefined && n > p.maximum) {
          return { param: p.name, message: `Parameter '${p.name}' must be less than or equal to ${p.maximum}` };
        }
      }
    }
  }
  return undefined;
}

function javaType(p: ParamSpec): string {
  if (p.type === 'integer') return 'int';
  if (p.type === 'boolean') return 'boolean';
  if (p.type === 'array') return 'List';
  return 'String';
}

function clip(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}…` : value;
}

const SCOPE_BY_SEGMENT: Readonly<Record<string, string>> = {
  users: 'USER',
  'member-profile': 'USER',
  'user-groups': 'GROUP',
  clients: 'CLIENT',
  projects: 'PROJECT',
  tags: 'TAG',
  'custom-fields': 'CUSTOM_FIELDS',
  'time-entries': 'TIME_ENTRY',
  user: 'TIME_ENTRY',
  expenses: 'EXPENSE',
  invoices: 'INVOICE',
  'approval-requests': 'APPROVAL',
  scheduling: 'SCHEDULING',
  'time-off': 'TIME_OFF',
  holidays: 'TIME_OFF',
  reports: 'REPORTS',
  'shared-reports': 'REPORTS',
};

/**
 * The add-on scope an operation most plausibly needs (the spec does not say), e.g.
 * `getTasks` → `TASK_READ`. Used to word simulated "missing scope" errors.
 */
export function requiredScope(op: OperationSpec): string {
  const parts = op.path.split('/').filter((p) => p.length > 0);
  const resource = parts[0] === 'v1' && parts[1] === 'workspaces' ? parts[3] : parts[1];
  let family = (resource !== undefined ? SCOPE_BY_SEGMENT[resource] : undefined) ?? 'WORKSPACE';
  if (family === 'PROJECT' && parts.includes('tasks')) family = 'TASK';
  if (family === 'PROJECT' && parts.includes('custom-fields')) family = 'CUSTOM_FIELDS';
  const reads = op.method === 'GET' || family === 'REPORTS' || /^(get|generate|filter|of)/.test(op.operationId);
  return `${family}_${reads ? 'READ' : 'WRITE'}`;
}

/** An operation the spec does not list but the simulator serves (the add-on endpoints). */
export function extraOperation(
  input: Pick<OperationSpec, 'operationId' | 'method' | 'path' | 'summary'>,
): OperationSpec {
  const segments = segmentsOf(input.path);
  return {
    ...input,
    server: 'api',
    params: segments.flatMap((s) =>
      'param' in s ? [{ name: s.param, in: 'path' as const, required: true, type: 'string' }] : [],
    ),
    paged: false,
    defaultPageSize: 50,
    acceptsAddonToken: true,
    segments,
  };
}
