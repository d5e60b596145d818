export interface DeliveryResult {
  readonly url: string;
  /** HTTP status; 0 when no answer came (connection refused, timeout). */
  readonly status: number;
  readonly ok: boolean;
  /** The answer: parsed JSON when it is JSON, else text (at most 1 MiB is read). */
  readonly body: unknown;
  readonly durationMs: number;
  /** Why no answer came. */
  readonly error?: string;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

/** POSTs JSON and never throws for network trouble: the result says what happened. */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; method?: string },
): Promise<DeliveryResult> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: options.method ?? 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: 'manual',
    });
    const text = await readLimited(res);
    return { url, status: res.status, ok: res.ok, body: parseMaybeJson(text), durationMs: performance.now() - started };
  } catch (err) {
    return {
      url,
      status: 0,
      ok: false,
      body: undefined,
      durationMs: performance.now() - started,
      error: describe(err, options.timeoutMs),
    };
  }
}

/** GETs a JSON document (the add-on manifest), bounded in size and time. */
export async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
  } catch (err) {
    throw new Error(`GET ${url} failed: ${describe(err, timeoutMs)}`);
  }
  const text = await readLimited(res);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`GET ${url} did not return JSON`);
  }
}

async function readLimited(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseMaybeJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e?.message ?? 'request failed'} (${cause})` : (e?.message ?? String(err));
}
