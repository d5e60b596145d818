import { parse } from 'yaml';
import { readClockifyData } from '../data.js';
import type { HttpMethod } from './types.js';

/**
 * The operations of Clockify's official OpenAPI document (`data/clockify.official.openapi.yaml`),
 * parsed once per process: what the general call validates against, what the explorer lists, and
 * what the simulator's mock serves. Nothing here is written per operation.
 */

const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export interface OperationParam {
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
  readonly description?: string;
}

export interface Operation {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** Path template as written in the spec, e.g. `/v1/workspaces/{workspaceId}/tags`. */
  readonly path: string;
  /** `reports` for operations the spec serves from the reports host. */
  readonly server: 'api' | 'reports';
  readonly params: readonly OperationParam[];
  /** Declares both `page` and `page-size` (Clockify's v1 paging). */
  readonly paged: boolean;
  readonly defaultPageSize: number;
  readonly maxPageSize?: number;
  /** Whether the spec lists `AddonKeyAuth` (X-Addon-Token) among the accepted schemes. */
  readonly acceptsAddonToken: boolean;
  readonly summary: string;
  readonly description?: string;
  /** The spec's tags (the explorer groups by the first). */
  readonly tags?: readonly string[];
  /** The JSON request body: whether it is required and its schema (refs into the spec's components). */
  readonly body?: { readonly required: boolean; readonly schema: Readonly<Record<string, unknown>> };
  /** Literal and parameter segments of `path`. */
  readonly segments: readonly Segment[];
}

export type Segment = { readonly literal: string } | { readonly param: string };

export type OperationMatch =
  | { readonly kind: 'matched'; readonly operation: Operation; readonly pathParams: Readonly<Record<string, string>> }
  | { readonly kind: 'not-found'; readonly allowedMethods: readonly HttpMethod[] };

interface RawParam {
  $ref?: string;
  name?: string;
  in?: string;
  required?: boolean;
  description?: string;
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
interface RawOperation {
  operationId?: string;
  parameters?: RawParam[];
  security?: Array<Record<string, unknown>>;
  summary?: string;
  description?: string;
  tags?: string[];
  servers?: Array<{ url?: string }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Record<string, unknown> }> };
}
type Components = { parameters?: Record<string, RawParam>; schemas?: Record<string, RawSchema> };

export class OperationCatalog {
  readonly operations: readonly Operation[];
  /** The spec's `components.schemas`, which body schemas refer to (`#/components/schemas/...`). */
  readonly schemas: Readonly<Record<string, unknown>>;
  readonly #byId = new Map<string, Operation>();
  readonly #byTemplate = new Map<string, Operation>();
  readonly #bySegmentCount = new Map<number, Operation[]>();

  constructor(operations: readonly Operation[], schemas: Readonly<Record<string, unknown>> = {}) {
    this.operations = operations;
    this.schemas = schemas;
    for (const op of operations) {
      this.#byId.set(op.operationId, op);
      this.#byTemplate.set(`${op.method} ${op.path}`, op);
      const list = this.#bySegmentCount.get(op.segments.length) ?? [];
      list.push(op);
      this.#bySegmentCount.set(op.segments.length, list);
    }
  }

  /** The catalog of the shipped official spec (parsed once per process). */
  static official(): OperationCatalog {
    if (!official) {
      const doc = parse(readClockifyData('clockify.official.openapi.yaml')) as { components?: Components };
      official = new OperationCatalog(parseOperations(doc), (doc.components?.schemas ?? {}) as Record<string, unknown>);
    }
    return official;
  }

  get(operationId: string): Operation | undefined {
    return this.#byId.get(operationId);
  }

  /** The operation of `method` on exactly this path template, e.g. `GET /v1/workspaces/{workspaceId}/tags`. */
  find(method: string, template: string): Operation | undefined {
    return this.#byTemplate.get(`${method.toUpperCase()} ${template}`);
  }

  /**
   * Finds the operation for a method and a concrete `/v1/...` path. Literal segments win over
   * parameters (`/time-entries/status/in-progress` is not `/time-entries/{id}`), as in Spring's matcher.
   */
  match(method: string, path: string, server?: 'api' | 'reports'): OperationMatch {
    const parts = path.split('/').filter((p) => p.length > 0);
    const candidates = this.#bySegmentCount.get(parts.length) ?? [];
    let best: { op: Operation; params: Record<string, string>; score: number } | undefined;
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
    if (best) return { kind: 'matched', operation: best.op, pathParams: best.params };
    return { kind: 'not-found', allowedMethods: [...allowed] };
  }
}

let official: OperationCatalog | undefined;

/**
 * Whether an operation only reads: a GET, or an operation of the reports API (reports are POSTs
 * that change nothing). Everything else is treated as a write.
 */
export function isReadOnly(op: Pick<Operation, 'method' | 'server'>): boolean {
  return op.method === 'GET' || op.server === 'reports';
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function parseOperations(doc: unknown): Operation[] {
  const root = doc as { paths?: Record<string, Record<string, unknown>>; components?: Components };
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(root.paths ?? {})) {
    const pathServers = item.servers as Array<{ url?: string }> | undefined;
    const pathLevelParams = (item.parameters as RawParam[] | undefined) ?? [];
    for (const method of METHODS) {
      const raw = item[method.toLowerCase()] as RawOperation | undefined;
      if (!raw) continue;
      const servers = raw.servers ?? pathServers ?? [];
      const server = servers.some((s) => (s.url ?? '').includes('reports')) ? 'reports' : 'api';
      const params = [...pathLevelParams, ...(raw.parameters ?? [])].map((p) => toParam(p, root.components));
      const page = params.find((p) => p.in === 'query' && p.name === 'page');
      const pageSize = params.find((p) => p.in === 'query' && p.name === 'page-size');
      const security = raw.security ?? [];
      const bodySchema = raw.requestBody?.content?.['application/json']?.schema;
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
        ...(raw.description ? { description: raw.description } : {}),
        ...(raw.tags && raw.tags.length > 0 ? { tags: raw.tags } : {}),
        ...(bodySchema ? { body: { required: raw.requestBody?.required === true, schema: bodySchema } } : {}),
        segments: segmentsOf(path),
      });
    }
  }
  return out;
}

export function segmentsOf(path: string): Segment[] {
  return path
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => (p.startsWith('{') && p.endsWith('}') ? { param: p.slice(1, -1) } : { literal: p }));
}

function toParam(raw: RawParam, components: Components | undefined): OperationParam {
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
    ...(p.description ? { description: p.description } : {}),
  };
}
