import type { Counter, Metrics } from '@cap/observability';

export interface RequestRecord {
  /** The workspace the request was for (from the path, else the token); `-` when unknown. */
  readonly workspaceId: string;
  /** The spec's operationId; `unknown` for paths the spec does not have. */
  readonly operation: string;
  readonly status: number;
}

export interface WorkspaceStats {
  total: number;
  rateLimited: number;
  /** Most requests admitted inside one rate-limit window. */
  peakPerWindow: number;
  byOperation: Record<string, number>;
  byStatus: Record<string, number>;
}

export interface StatsSnapshot {
  /** When counting started (creation or the last reset). */
  since: string;
  total: number;
  /** Number of 429 answers. */
  rateLimited: number;
  byOperation: Record<string, number>;
  byStatus: Record<string, number>;
  byWorkspace: Record<string, WorkspaceStats>;
}

/** Counts every request the mock answered: per workspace, per operation, per status. */
export class RequestStats {
  private state: StatsSnapshot = empty();
  private readonly counter: Counter<'operation' | 'status'> | undefined;
  private readonly peakOf: (workspaceId: string) => number;

  constructor(options: { metrics?: Metrics; peakOf?: (workspaceId: string) => number } = {}) {
    this.counter = options.metrics?.counter(
      'simulator_api_requests_total',
      'Requests answered by the mock Clockify API',
      ['operation', 'status'],
    );
    this.peakOf = options.peakOf ?? (() => 0);
  }

  record(r: RequestRecord): void {
    const s = this.state;
    const status = String(r.status);
    s.total++;
    bump(s.byOperation, r.operation);
    bump(s.byStatus, status);
    let ws = s.byWorkspace[r.workspaceId];
    if (!ws) {
      ws = { total: 0, rateLimited: 0, peakPerWindow: 0, byOperation: {}, byStatus: {} };
      s.byWorkspace[r.workspaceId] = ws;
    }
    ws.total++;
    bump(ws.byOperation, r.operation);
    bump(ws.byStatus, status);
    if (r.status === 429) {
      s.rateLimited++;
      ws.rateLimited++;
    }
    this.counter?.inc({ operation: r.operation, status });
  }

  /** A copy of the counters. */
  snapshot(): StatsSnapshot {
    const copy = structuredClone(this.state);
    for (const [id, ws] of Object.entries(copy.byWorkspace)) ws.peakPerWindow = this.peakOf(id);
    return copy;
  }

  /** Requests matching every given criterion. */
  count(filter: { workspaceId?: string; operation?: string; status?: number } = {}): number {
    const scope = filter.workspaceId !== undefined ? this.state.byWorkspace[filter.workspaceId] : this.state;
    if (!scope) return 0;
    if (filter.operation !== undefined && filter.status !== undefined) {
      throw new Error('count by operation and status together is not tracked; filter by one of them');
    }
    if (filter.operation !== undefined) return scope.byOperation[filter.operation] ?? 0;
    if (filter.status !== undefined) return scope.byStatus[String(filter.status)] ?? 0;
    return scope.total;
  }

  reset(): void {
    this.state = empty();
  }
}

function empty(): StatsSnapshot {
  return { since: new Date().toISOString(), total: 0, rateLimited: 0, byOperation: {}, byStatus: {}, byWorkspace: {} };
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}
