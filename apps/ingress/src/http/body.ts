import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';
import { jsonDepthExceeds } from './json-depth.js';

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** 415 unless the request says it carries JSON (UTF-8). */
export function requireJsonContentType(req: IncomingMessage): void {
  const type = req.headers['content-type'];
  if (!type || !JSON_TYPE.test(type.trim())) {
    throw new HttpError(415, 'unsupported_media_type', 'the body must be application/json');
  }
}

/**
 * Reads the body up to `limit` bytes. A declared Content-Length above the limit is refused before
 * reading; a body that grows past it is refused as soon as it does, without buffering the rest
 * (the connection is closed after the answer).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, body?: Buffer) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err) reject(err);
      else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading: the excess is never buffered. The socket is closed after the 413.
        req.pause();
        finish(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = (err: Error) =>
      finish(new HttpError(400, 'bad_request', `could not read the body: ${err.message}`));
    const onAborted = () => finish(new HttpError(400, 'bad_request', 'the client aborted the request'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'payload_too_large', `the body is larger than ${limit} bytes`, { connection: 'close' });
}

/**
 * Parses a JSON object body; anything else (array, scalar, bad JSON, bad UTF-8, nesting deeper
 * than `maxDepth`) is a 400.
 */
export function parseJsonObject(raw: Buffer, maxDepth: number): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new HttpError(400, 'malformed_body', 'the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'malformed_body', 'the body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'malformed_body', 'the body must be a JSON object');
  }
  if (jsonDepthExceeds(value, maxDepth)) {
    throw new HttpError(400, 'too_deep', `the body nests arrays and objects deeper than ${maxDepth} levels`);
  }
  return value as Record<string, unknown>;
}
