/**
 * Redaction of secrets in anything that is logged. Keys are matched case-insensitively at any
 * depth; strings are scrubbed of `auth_token=` query values and of anything shaped like a JWT,
 * so a token pasted into a message or a URL never reaches the log.
 */

export const REDACTED = '[REDACTED]';

const SECRET_KEYS = new Set(
  [
    'authToken',
    'auth_token',
    'token',
    'accessToken',
    'refreshToken',
    'installationToken',
    'authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'password',
    'secret',
    'apiKey',
    'x-api-key',
    'clockify-signature',
    'x-addon-lifecycle-token',
    'x-addon-token',
    'TOKEN_ENCRYPTION_KEY',
    'ADMIN_PASSWORD',
  ].map((k) => k.toLowerCase()),
);

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase());
}

const AUTH_TOKEN_IN_URL = /(\bauth_token=)[^&#\s"']*/gi;
// header.payload.signature, each base64url; headers of JWTs always start with `eyJ` ('{"').
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
// user:password@ in connection strings
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi;

export function redactString(value: string): string {
  if (value.length < 12) return value;
  return value
    .replace(AUTH_TOKEN_IN_URL, `$1${REDACTED}`)
    .replace(JWT_LIKE, REDACTED)
    .replace(URL_CREDENTIALS, `$1$2:${REDACTED}@`);
}

const MAX_DEPTH = 8;

/** Returns a redacted copy; the input is never mutated. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (value instanceof Error) return redactError(value, depth);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSecretKey(key) ? (v === undefined || v === null ? v : REDACTED) : redact(v, depth + 1);
  }
  return out;
}

function redactError(err: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.name,
    message: redactString(err.message),
  };
  if (err.stack) out.stack = redactString(err.stack);
  for (const [key, v] of Object.entries(err)) {
    out[key] = isSecretKey(key) ? REDACTED : redact(v, depth + 1);
  }
  if (err.cause !== undefined) out.cause = redact(err.cause, depth + 1);
  return out;
}
