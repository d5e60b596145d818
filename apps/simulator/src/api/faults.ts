/**
 * Fault injection for the mock API, per operation (the spec's operationId, or `*` for every
 * operation): fail the next N requests with a 5xx, answer 403 as if the add-on lacked a scope,
 * or add latency. Lets tests exercise retries, scope errors and timeouts on purpose.
 */
export interface OperationFault {
  /** Answer the next N requests with `failStatus` (default 500); counts down to 0. */
  readonly failNext?: number;
  readonly failStatus?: number;
  /** Sent as `Retry-After` (seconds) with those failures, e.g. a 429 of an exhausted quota. */
  readonly retryAfterSeconds?: number;
  /** Answer 403 "does not have permission" until cleared; a string names the scope. */
  readonly forbid?: boolean | string;
  /** Delay each answer by this many milliseconds (at most 60 000). */
  readonly latencyMs?: number;
}

export const MAX_LATENCY_MS = 60_000;

export type FaultDecision =
  | { readonly kind: 'none'; readonly latencyMs: number }
  | { readonly kind: 'fail'; readonly status: number; readonly retryAfterSeconds?: number; readonly latencyMs: number }
  | { readonly kind: 'forbid'; readonly scope: string | undefined; readonly latencyMs: number };

export class FaultInjector {
  private readonly faults = new Map<string, OperationFault>();

  /** Sets (replaces) the fault of an operation. */
  set(operation: string, fault: OperationFault): void {
    validateFault(fault);
    if (operation.trim() === '') throw new Error('a fault needs an operation id (or "*")');
    this.faults.set(operation, { ...fault });
  }

  clear(operation?: string): void {
    if (operation === undefined) this.faults.clear();
    else this.faults.delete(operation);
  }

  list(): Record<string, OperationFault> {
    return Object.fromEntries([...this.faults.entries()].map(([k, v]) => [k, { ...v }]));
  }

  /** What to do with one request of `operation`; consumes one `failNext`. */
  decide(operation: string): FaultDecision {
    const specific = this.faults.get(operation);
    const any = this.faults.get('*');
    const latencyMs = Math.max(specific?.latencyMs ?? 0, any?.latencyMs ?? 0);
    for (const [key, fault] of [
      [operation, specific],
      ['*', any],
    ] as const) {
      if (!fault) continue;
      if (fault.forbid)
        return { kind: 'forbid', scope: typeof fault.forbid === 'string' ? fault.forbid : undefined, latencyMs };
      if ((fault.failNext ?? 0) > 0) {
        const left = (fault.failNext ?? 0) - 1;
        this.faults.set(key, { ...fault, failNext: left });
        return {
          kind: 'fail',
          status: fault.failStatus ?? 500,
          ...(fault.retryAfterSeconds !== undefined ? { retryAfterSeconds: fault.retryAfterSeconds } : {}),
          latencyMs,
        };
      }
    }
    return { kind: 'none', latencyMs };
  }
}

export function validateFault(fault: OperationFault): void {
  if (
    fault.failNext !== undefined &&
    (!Number.isInteger(fault.failNext) || fault.failNext < 0 || fault.failNext > 1_000_000)
  ) {
    throw new Error('failNext must be an integer between 0 and 1000000');
  }
  if (
    fault.failStatus !== undefined &&
    (!Number.isInteger(fault.failStatus) || fault.failStatus < 400 || fault.failStatus > 599)
  ) {
    throw new Error('failStatus must be an HTTP error status (400–599)');
  }
  if (
    fault.retryAfterSeconds !== undefined &&
    (!Number.isInteger(fault.retryAfterSeconds) || fault.retryAfterSeconds < 0 || fault.retryAfterSeconds > 86_400)
  ) {
    throw new Error('retryAfterSeconds must be an integer between 0 and 86400');
  }
  if (
    fault.latencyMs !== undefined &&
    (!Number.isFinite(fault.latencyMs) || fault.latencyMs < 0 || fault.latencyMs > MAX_LATENCY_MS)
  ) {
    throw new Error(`latencyMs must be between 0 and ${MAX_LATENCY_MS}`);
  }
  if (fault.forbid !== undefined && typeof fault.forbid !== 'boolean' && typeof fault.forbid !== 'string') {
    throw new Error('forbid must be a boolean or a scope name');
  }
}
