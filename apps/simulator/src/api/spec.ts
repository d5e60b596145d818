import { readClockifyData } from '@cap/clockify';
import { parse } from 'yaml';

/**
 * The operations of Clockify's official OpenAPI document (packages/clockify/data), indexed for
 * request matching and parameter validation. The mock recognizes exactly these operations, so an
 * add-on that calls something Clockify does not have fails here as it would in production.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export interface ParamSpec {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required: boolean;
  readonly type: string;
  readonly enum?: readonly string[];
  /** Enum of the items, for array parameters. */
  readonly itemEnum?: readonly string[];
  readonly itemType?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly default?: unknown;
}

export interface OperationSpec {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** Path template as written in the spec, e.g. `/v1/workspaces/{workspaceId}/tags`. */
  readonly path: string;
  /** `reports` for operations the spec serves from the reports host. */
  readonly server: 'api' | 'reports';
  readonly params: readonly ParamSpec[];
  /** Declares both `page` and `page-size` (Clockify's v1 paging). */
  readonly paged: boolean;
  readonly defaultPageSize: number;
  readonly maxPageSize?: number;
  /** Whether the spec lists `AddonKeyAuth` (X-Addon-Token) among the accepted schemes. */
  readonly acceptsAddonToken: boolean;
  readonly summary: string;
  /** Literal and parameter segments of `path`. */
  readonly segments: readonly Segment[];
}

type Segment = { readonly literal: string } | { readonly param: string };

export type OperationMatch =
  | {
      readonly kind: 'matched';
      readonly operation: OperationSpec;
      readonly pathParams: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'not-found'; readonly allowedMethods: readonly HttpMethod[] };

export interface ParamProblem {
  readonly param: string;
  readonly message: string;
}

export class OperationIndex {
  readonly operations: readonly OperationSpec[];
  private readonly byId = new Map<string, OperationSpec>();
  private readonly bySegmentCount = new Map<number, OperationSpec[]>();

  constructor(operations: readonly OperationSpec[]) {
    this.operations = operations;
    for (const op of operations) {
      this.byId.set(op.operationId, op);
      const list = this.bySegmentCount.get(op.segments.length) ?? [];
      list.push(op);
      this.bySegmentCount.set(op.segments.length, list);
    }
  }

  /** The index of the shipped official spec (parsed once per process). */
  static official(): OperationIndex {
    official ??= new OperationIndex(
      parseOperations(parse(readClockifyData('clockify.official.openapi.yaml')) as unknown),
    );
    return official;
  }

  get(operationId: string): OperationSpec | undefined {
    return this.byId.get(operationId);
  }

  /**
   * Finds the operation for a method and a `/v1/...` path. Literal segments win over parameters
   * (`/time-entries/status/in-progress` is not `/time-entries/{id}`), as in Spring's matcher.
   */
  match(method: string, path: string, server?: 'api' | 'reports'): OperationMatch {
    const parts = path.split('/').filter((p) => p.length > 0);
    const candidates = this.bySegmentCount.get(parts.length) ?? [];
    let best: { op: OperationSpec; params: Record<string, string>; score: number } | undefined;
    const allowed = new Set<HttpMethod>();
    for (const op of candidates) {
      if (server && op.server !== server) continue;
      const params: Record<string, string> = {};
      let score = 0;
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = op.segments[i] as Segment;
        const part = parts[i] as string;
        if ('literal' in seg) {
          if (seg.literal !== part) {
            ok = false;
            break;
          }
          score += 1 << (parts.length - i);
        } else {
          params[seg.param] = safeDecode(part);
        }
      }
      if (!ok) continue;
      if (op.method !== method) {
        allowed.add(op.method);
        continue;
      }
      if (!best || score > best.score) best = { op, params, score };
    }
    if (best) {
      return { kind: 'matched', operation: best.op, pathParams: best.params };
    }
    return { kind: 'not-found', allowedMethods: [...allowed] };
  }
}

let official: OperationIndex | undefined;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

interface RawParam {
  $ref?: string;
  name?: string;
  in?: string;
  required?: boolean;
  schema?: RawSchema;
}
interface RawSchema {
  type?: string;
  enum?: unknown[];
  items?: RawSchema;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  $ref?: string;
}

export function parseOperations(doc: unknown): OperationSpec[] {
  const root = doc as {
    paths?: Record<string, Record<string, unknown>>;
    components?: { parameters?: Record<string, RawParam>; schemas?: Record<string, RawSchema> };
  };
  const out: OperationSpec[] = [];
  for (const [path, item] of Object.entries(root.paths ?? {})) {
    const pathServers = item.servers as Array<{ url?: string }> | undefined;
    const pathLevelParams = (item.parameters as RawParam[] | undefined) ?? [];
    for (const method of METHODS) {
      const raw = item[method.toLowerCase()] as
        | {
            operationId?: string;
            parameters?: RawParam[];
            security?: Array<Record<string, unknown>>;
            summary?: string;
            servers?: Array<{ url?: string }>;
          }
        | undefined;
      if (!raw) continue;
      const servers = raw.servers ?? pathServers ?? [];
      const server = servers.some((s) => (s.url ?? '').includes('reports')) ? 'reports' : 'api';
      const params = [...pathLevelParams, ...(raw.parameters ?? [])].map((p) => toParam(p, root.components));
      const page = params.find((p) => p.in === 'query' && p.name === 'page');
      const pageSize = params.find((p) => p.in === 'query' && p.name === 'page-size');
      const security = raw.security ?? [];
      out.push({
        operationId: raw.operationId ?? `${method} ${path}`,
        method,
        path,
        server,
        params,
        paged: page !== undefined && pageSize !== undefined,
        defaultPageSize: typeof pageSize?.default === 'number' ? pageSize.default : 50,
        ...(pageSize?.maximum !== undefined ? { maxPageSize: pageSize.maximum } : {}),
        acceptsAddonToken: security.length === 0 || security.some((s) => 'AddonKeyAuth' in s),
        summary: raw.summary ?? '',
        segments: path
          .split('/')
          .filter((p) => p.length > 0)
          .map((p) => (p.startsWith('{') && p.endsWith('}') ? { param: p.slice(1, -1) } : { literal: p })),
      });
    }
  }
  return out;
}

function toParam(
  raw: RawParam,
  components: { parameters?: Record<string, RawParam>; schemas?: Record<string, RawSchema> } | undefined,
): ParamSpec {
  let p = raw;
  if (p.$ref) {
    const name = p.$ref.split('/').pop() ?? '';
    p = components?.parameters?.[name] ?? {};
  }
  let schema = p.schema ?? {};
  if (schema.$ref) schema = components?.schemas?.[schema.$ref.split('/').pop() ?? ''] ?? {};
  const items = schema.items?.$ref ? components?.schemas?.[schema.items.$ref.split('/').pop() ?? ''] : schema.items;
  const location = p.in === 'path' || p.in === 'header' || p.in === 'cookie' ? p.in : 'query';
  return {
    name: p.name ?? '',
    in: location,
    required: p.required === true || location === 'path',
    type: schema.type ?? 'string',
    ...(Array.isArray(schema.enum) ? { enum: schema.enum.map(String) } : {}),
    ...(items?.type ? { itemType: items.type } : {}),
    ...(Array.isArray(items?.enum) ? { itemEnum: items.enum.map(String) } : {}),
    ...(typeof schema.minimum === 'number' ? { minimum: schema.minimum } : {}),
    ...(typeof schema.maximum === 'number' ? { maximum: schema.maximum } : {}),
    ...(schema.default !== undefined ? { default: schema.default } : {}),
  };
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
  const segments: Segment[] = input.path
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => (p.startsWith('{') && p.endsWith('}') ? { param: p.slice(1, -1) } : { literal: p }));
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
