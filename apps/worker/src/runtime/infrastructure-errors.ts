/**
 * Errors that say a dependency (Postgres, Redis) is unreachable or momentarily refusing, not that
 * the job is wrong: connection failures, pool timeouts, a server shutting down or not accepting
 * connections yet, serialization failures and deadlocks. A job failing with one of these is put
 * back to wait instead of spending an attempt, so an outage of any length strands nothing.
 */

/** Postgres SQLSTATEs of transient conditions (class 08 connection, 57P0x shutdown, 40001/40P01). */
const TRANSIENT_SQLSTATES = new Set([
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08007',
  '08P01',
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/** Node's socket errors. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Messages of node-postgres and ioredis for a connection that is gone or never came. */
const MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /client has encountered a connection error/i,
  /connection is closed/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /Reached the max retries per request limit/i,
];

export function isInfrastructureError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && e !== undefined && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || NETWORK_CODES.has(code))) return true;
    if (name === 'MaxRetriesPerRequestError') return true;
    if (typeof message === 'string' && MESSAGES.some((m) => m.test(message))) return true;
    // AggregateError (several connection attempts failed) and errors with a cause.
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.some((x) => isInfrastructureError(x))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The wait before a job that met an infrastructure error runs again: doubling, capped. */
export function infrastructureBackoffMs(waits: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(waits, 20));
}
