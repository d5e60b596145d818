import { OperationCatalog, isReadOnly, type Operation } from '@cap/clockify';

/**
 * The explorer's view of Clockify's API: every operation of the official spec, grouped by its
 * first tag, with its parameters and descriptions. Built once per process from the catalog and
 * served by `GET /admin/api/clockify/operations` and the API Studio page.
 */
export interface ExplorerOperation {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  /** Served by the reports API (its own base URL). */
  readonly reports: boolean;
  /** Anything but a GET or a report: a change in the workspace. */
  readonly write: boolean;
  /** Path and query parameters; `workspaceId` is always the installation's and is left out. */
  readonly params: readonly {
    readonly name: string;
    readonly in: 'path' | 'query';
    readonly required: boolean;
    readonly type: string;
    readonly enum?: readonly string[];
    readonly default?: unknown;
    readonly description?: string;
  }[];
  /** Whether the operation takes a JSON body, and whether it must. */
  readonly body?: { readonly required: boolean };
}

export interface ExplorerData {
  readonly operations: number;
  readonly groups: readonly { readonly tag: string; readonly operations: readonly ExplorerOperation[] }[];
}

let cached: ExplorerData | undefined;

function view(op: Operation): ExplorerOperation {
  return {
    operationId: op.operationId,
    method: op.method,
    path: op.path,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    reports: op.server === 'reports',
    write: !isReadOnly(op),
    params: op.params.flatMap((p) =>
      (p.in === 'path' || p.in === 'query') && p.name !== 'workspaceId'
        ? [
            {
              name: p.name,
              in: p.in,
              required: p.required,
              type: p.type === 'array' ? `array of ${p.itemType ?? 'string'}` : p.type,
              ...((p.enum ?? p.itemEnum) ? { enum: p.enum ?? p.itemEnum } : {}),
              ...(p.default !== undefined ? { default: p.default } : {}),
              ...(p.description ? { description: p.description } : {}),
            },
          ]
        : [],
    ),
    ...(op.body ? { body: { required: op.body.required } } : {}),
  };
}

/** The operations by tag (tags and operations in the spec's order; untagged ones under "Other"). */
export function explorerOperations(catalog = OperationCatalog.official()): ExplorerData {
  if (cached && catalog === OperationCatalog.official()) return cached;
  const groups = new Map<string, ExplorerOperation[]>();
  for (const op of catalog.operations) {
    const tag = op.tags?.[0] ?? 'Other';
    const list = groups.get(tag) ?? [];
    list.push(view(op));
    groups.set(tag, list);
  }
  const data: ExplorerData = {
    operations: catalog.operations.length,
    groups: [...groups].map(([tag, operations]) => ({ tag, operations })),
  };
  if (catalog === OperationCatalog.official()) cached = data;
  return data;
}
