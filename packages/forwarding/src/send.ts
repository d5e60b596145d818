import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { destinationProblem, guardedLookup, type DestinationPolicy } from './destination.js';

/**
 * One POST to a destination, with the guards forwarding needs: the connect-time address check,
 * a timeout for the whole exchange, redirects never followed (a 3xx is a failure), and at most
 * `maxResponseBytes` of the answer read (the rest is discarded).
 */
export interface SendInput {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly policy: DestinationPolicy;
}

export interface SendResult {
  /** The HTTP status, or undefined when no answer came (network error, timeout, blocked address). */
  readonly status?: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  /** The start of the answer's body (for the attempt log). */
  readonly responseText?: string;
  /** Why it failed, when it did: a network error, the timeout, a blocked address, or the status. */
  readonly error?: string;
  /** A Retry-After the destination asked for (429/503), in milliseconds. */
  readonly retryAfterMs?: number;
}

export function sendForward(input: SendInput): Promise<SendResult> {
  const started = performance.now();
  // Checked again here, not only when the rule was saved: a literal address never goes through the
  // lookup below, and the allow-list may have changed since.
  const problem = destinationProblem(input.url, input.policy);
  if (problem) return Promise.resolve({ ok: false, latencyMs: 0, error: `the destination ${problem}` });
  const url = new URL(input.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, latencyMs: Math.round(performance.now() - started) });
    };
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          ...input.headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(input.body)),
          'user-agent': 'clockify-addon-platform-forwarding',
        },
        lookup: guardedLookup(input.policy),
        agent: false,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < input.maxResponseBytes) chunks.push(chunk.subarray(0, input.maxResponseBytes - size));
          size += chunk.length;
          if (size > input.maxResponseBytes) res.destroy();
        });
        const done = () => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          const retryAfter = Number(res.headers['retry-after']);
          finish({
            status,
            ok,
            responseText: Buffer.concat(chunks).toString('utf8'),
            ...(ok
              ? {}
              : { error: status >= 300 && status < 400 ? `redirect ${status} (not followed)` : `HTTP ${status}` }),
            ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
          });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${input.timeoutMs} ms`));
    }, input.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish({
        ok: false,
        error: err.code === 'EBLOCKEDDESTINATION' ? err.message : `${err.code ?? 'network error'}: ${err.message}`,
      });
    });
    req.end(input.body);
  });
}
