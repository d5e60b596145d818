import { TokenVerificationError } from './errors.js';

/** Clockify tokens are a few hundred bytes; these bounds keep hostile input cheap to refuse. */
export const MAX_TOKEN_LENGTH = 16 * 1024;
export const MAX_HEADER_LENGTH = 8 * 1024;
const MAX_KID_LENGTH = 256;

export const ALLOWED_ALG = 'RS256';

/** Algorithm names we may print back: a fixed list, so no attacker text reaches a message. */
const KNOWN_ALGS = new Set([
  'none',
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES256K',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'Ed448',
]);

/** Header parameters that would let the token choose its own verification key. */
const KEY_BEARING_PARAMS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const WHITESPACE = /\s/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface ParsedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Record<string, unknown>;
  readonly kid: string | undefined;
  readonly hasSignature: boolean;
}

function malformed(message: string): TokenVerificationError {
  return new TokenVerificationError('malformed', message);
}

/**
 * Structural checks on a compact JWS, done by hand before any key is touched, so that what
 * reaches the signature check is exactly one shape: three canonical base64url segments, a JSON
 * object header with `alg: RS256` and nothing that names or carries a key, and a JSON object
 * payload. The signature itself is not judged here.
 */
export function parseCompactToken(token: unknown): ParsedToken {
  if (typeof token !== 'string') throw malformed('token must be a string');
  if (token.length === 0) throw malformed('token is empty');
  if (token.length > MAX_TOKEN_LENGTH) throw malformed(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (WHITESPACE.test(token)) throw malformed('token contains whitespace or line breaks');

  const segments = token.split('.');
  if (segments.length !== 3) {
    throw malformed(`token must have 3 dot-separated segments (header.payload.signature), found ${segments.length}`);
  }
  const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string];
  if (headerSegment.length === 0) throw malformed('token header segment is empty');
  if (headerSegment.length > MAX_HEADER_LENGTH)
    throw malformed(`token header is longer than ${MAX_HEADER_LENGTH} characters`);
  if (payloadSegment.length === 0) throw malformed('token payload segment is empty');

  const header = decodeJsonObject(headerSegment, 'header');
  checkHeader(header);
  const payload = decodeJsonObject(payloadSegment, 'payload');
  decodeSegment(signatureSegment, 'signature');

  return {
    header,
    payload,
    kid: header.kid as string | undefined,
    hasSignature: signatureSegment.length > 0,
  };
}

function checkHeader(header: Record<string, unknown>): void {
  const alg = header.alg;
  if (typeof alg !== 'string' || alg === '') throw malformed('token header has no "alg"');
  if (alg !== ALLOWED_ALG) {
    const named = KNOWN_ALGS.has(alg) ? `algorithm ${alg}` : 'algorithm';
    throw new TokenVerificationError('unsupported_alg', `token ${named} is not accepted; only ${ALLOWED_ALG} is`);
  }
  for (const param of KEY_BEARING_PARAMS) {
    if (Object.hasOwn(header, param)) {
      throw malformed(
        `token header carries key material ("${param}"); the verification key comes only from configuration`,
      );
    }
  }
  if (Object.hasOwn(header, 'crit'))
    throw malformed('token header has "crit"; no critical header extensions are supported');
  if (Object.hasOwn(header, 'b64')) throw malformed('token header has "b64"; unencoded payloads are not accepted');
  if (Object.hasOwn(header, 'kid')) {
    const kid = header.kid;
    if (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH) {
      throw malformed(`token header "kid" must be a non-empty string of at most ${MAX_KID_LENGTH} characters`);
    }
  }
}

function decodeSegment(segment: string, part: 'header' | 'payload' | 'signature'): Buffer {
  if (!BASE64URL.test(segment)) throw malformed(`token ${part} is not base64url (characters outside A-Z a-z 0-9 - _)`);
  if (segment.length % 4 === 1) throw malformed(`token ${part} has an impossible base64url length`);
  const bytes = Buffer.from(segment, 'base64url');
  // Node's decoder ignores stray low bits in the last character; two spellings of one token would
  // then hash differently (cache, dedupe), so only the canonical spelling is accepted.
  if (bytes.toString('base64url') !== segment) throw malformed(`token ${part} is not canonical base64url`);
  return bytes;
}

function decodeJsonObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  const bytes = decodeSegment(segment, part);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    throw malformed(`token ${part} is not UTF-8 JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw malformed(`token ${part} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
