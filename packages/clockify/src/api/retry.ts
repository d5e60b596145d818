/** Used when a 429 carries no (usable) `Retry-After`, per the team's reading of REFERENCE.md §3.4. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/**
 * Upper bound for a server-provided wait. New free-plan workspaces get 30 requests per hour, so
 * an hour-long `Retry-After` is plausible; anything beyond a day is treated as a day.
 */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * `Retry-After` in milliseconds: delta-seconds (fractions tolerated) or an HTTP date. Absent or
 * unparseable → {@link DEFAULT_RETRY_AFTER_MS}; a date in the past → 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number {
  const text = value?.trim();
  if (!text) return DEFAULT_RETRY_AFTER_MS;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Math.ceil(Number(text) * 1000);
  } else {
    // HTTP dates always spell the weekday and month; this keeps Date.parse from reading "-5" as a year.
    if (!/[a-z]/i.test(text)) return DEFAULT_RETRY_AFTER_MS;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS;
    ms = at - nowMs;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

/**
 * Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^attempt)], so many
 * workers that failed together do not come back together.
 */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
