import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { compactVerify, createRemoteJWKSet, errors, importSPKI, type CryptoKey } from 'jose';
import { silentLogger, type Counter, type Logger, type Metrics } from '@cap/observability';
import {
  TOKEN_KINDS,
  checkIdentityClaims,
  checkTimeClaims,
  checkUsageClaims,
  type ClockifyClaims,
  type ExpectedInstallation,
  type TokenKind,
} from './claims.js';
import { KeySourceUnavailableError, TokenVerificationError } from './errors.js';
import { ALLOWED_ALG, MAX_TOKEN_LENGTH, parseCompactToken } from './jws.js';
import { ExpiringLru } from './lru.js';
import { inspectRsaPublicKey, isDefaultClockifyKey, loadPublicKeyPem, type PublicKeySource } from './public-key.js';

export interface VerifiedToken {
  readonly claims: ClockifyClaims;
  /** False only when signature verification is disabled (`requireSignature: false`). */
  readonly verified: boolean;
  /** SHA-256 hex of the token: safe to log, store and compare in place of the token. */
  readonly tokenHash: string;
}

export interface VerifierOptions {
  /** The add-on's manifest key; every token's `sub` must equal it. */
  addonKey: string;
  /** PEM text of the signing key; wins over `publicKeyFile`. Default: Clockify's shipped key. */
  publicKeyPem?: string | undefined;
  publicKeyFile?: string | undefined;
  /** Optional JWKS for tokens that carry a `kid`; tokens without one use the static key. */
  jwksUrl?: string | undefined;
  /** Default true. `false` is refused when `production` is true. */
  requireSignature?: boolean | undefined;
  production?: boolean | undefined;
  /** Default 30. */
  clockToleranceSeconds?: number | undefined;
  /** Verified tokens kept in memory; default 10 000, 0 disables the cache. */
  cacheSize?: number | undefined;
  /** How long a JWKS fetch may take (default 5 s) and how soon an unknown `kid` may refetch (default 30 s). */
  jwksTimeoutMs?: number | undefined;
  jwksCooldownMs?: number | undefined;
  logger?: Logger | undefined;
  metrics?: Metrics | undefined;
  /** Clock in milliseconds, for tests. */
  now?: (() => number) | undefined;
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
const DEFAULT_CACHE_SIZE = 10_000;
const DEFAULT_JWKS_TIMEOUT_MS = 5_000;
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;
const REPEATED_WARNING_INTERVAL_MS = 60_000;
const VERIFY_OPTIONS = { algorithms: [ALLOWED_ALG] };

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies the JWTs Clockify sends (webhook, lifecycle, user and installation tokens).
 *
 * The header is judged by hand before jose sees the token (see jws.ts), so jose is only ever
 * asked one question: does this RS256 signature verify under a key we configured. Verified
 * claims are cached by token hash: a webhook's token is the same on every delivery, and a cache
 * hit costs one SHA-256 instead of an RSA operation.
 */
export class TokenVerifier {
  readonly keySource: PublicKeySource;

  private readonly cache: ExpiringLru<ClockifyClaims>;
  /** One signature check per distinct token in flight, however many requests carry it. */
  private readonly inFlight = new Map<string, Promise<ClockifyClaims>>();
  private readonly verifications: Counter<'kind' | 'result'> | undefined;
  private readonly cacheHits: Counter<'kind'> | undefined;
  /** Last time each repeating warning was logged, so an outage or a dev setting cannot flood the log. */
  private readonly lastWarningAt = new Map<'unverified' | 'jwks', number>();

  private constructor(
    private readonly addonKey: string,
    private readonly staticKey: CryptoKey,
    private readonly remoteKeys: RemoteKeySet | undefined,
    private readonly requireSignature: boolean,
    private readonly toleranceSeconds: number,
    private readonly logger: Logger,
    private readonly now: () => number,
    keySource: PublicKeySource,
    cacheSize: number,
    metrics: Metrics | undefined,
  ) {
    this.keySource = keySource;
    this.cache = new ExpiringLru<ClockifyClaims>(cacheSize, now);
    this.verifications = metrics?.counter(
      'clockify_token_verifications_total',
      'Clockify token verifications by token kind and result (ok or the rejection reason).',
      ['kind', 'result'],
    );
    this.cacheHits = metrics?.counter(
      'clockify_token_cache_hits_total',
      'Clockify token verifications answered from the verified-token cache, without RSA work.',
      ['kind'],
    );
  }

  static async create(opts: VerifierOptions): Promise<TokenVerifier> {
    if (typeof opts.addonKey !== 'string' || opts.addonKey.trim() === '') {
      throw new Error('TokenVerifier needs the add-on key (the tokens\' "sub")');
    }
    const requireSignature = opts.requireSignature ?? true;
    if (!requireSignature && opts.production === true) {
      throw new Error('token signature verification cannot be disabled in production');
    }
    const tolerance = opts.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    if (!Number.isFinite(tolerance) || tolerance < 0) {
      throw new RangeError('clockToleranceSeconds must be a non-negative number');
    }
    const logger = opts.logger ?? silentLogger();

    const { pem, source } = loadPublicKeyPem({ pem: opts.publicKeyPem, file: opts.publicKeyFile });
    const inspected = inspectRsaPublicKey(pem);
    const staticKey = await importSPKI(pem, ALLOWED_ALG);
    const keyInfo = { keySource: source, keyFingerprint: inspected.fingerprint, keyBits: inspected.modulusLength };
    if (isDefaultClockifyKey(pem)) {
      logger.info(keyInfo, "Clockify tokens are verified with Clockify's published public key");
    } else {
      logger.warn(
        keyInfo,
        "NON-DEFAULT CLOCKIFY PUBLIC KEY: tokens are verified with a key that is not Clockify's published key; " +
          'real Clockify tokens will be rejected. Expected only with the simulator or in tests.',
      );
    }

    let remoteKeys: RemoteKeySet | undefined;
    if (opts.jwksUrl !== undefined && opts.jwksUrl !== '') {
      const url = parseJwksUrl(opts.jwksUrl);
      remoteKeys = createRemoteJWKSet(url, {
        timeoutDuration: opts.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
        cooldownDuration: opts.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
        cacheMaxAge: JWKS_MAX_AGE_MS,
      });
      logger.warn(
        { jwksUrl: url.href },
        'Clockify tokens carrying a "kid" are verified against a remote JWKS; Clockify itself publishes no JWKS',
      );
    }
    if (!requireSignature) {
      logger.warn(
        'CLOCKIFY TOKEN SIGNATURES ARE NOT VERIFIED (requireSignature: false); never run like this with real traffic',
      );
    }

    return new TokenVerifier(
      opts.addonKey,
      staticKey,
      remoteKeys,
      requireSignature,
      tolerance,
      logger,
      opts.now ?? Date.now,
      source,
      opts.cacheSize ?? DEFAULT_CACHE_SIZE,
      opts.metrics,
    );
  }

  /**
   * Resolves with the claims, or rejects with {@link TokenVerificationError} (401/403, safe to
   * show) or, when a JWKS is configured and unusable, {@link KeySourceUnavailableError} (503).
   */
  async verify(token: string, kind: TokenKind, expect?: ExpectedInstallation): Promise<VerifiedToken> {
    if (!TOKEN_KINDS.includes(kind)) throw new TypeError('unknown token kind');
    try {
      const result = await this.verifyToken(token, kind, expect);
      this.verifications?.inc({ kind, result: 'ok' });
      return result;
    } catch (err) {
      if (err instanceof TokenVerificationError) {
        this.verifications?.inc({ kind, result: err.reason });
        this.logger.debug({ kind, reason: err.reason }, 'Clockify token rejected');
      } else if (err instanceof KeySourceUnavailableError) {
        this.verifications?.inc({ kind, result: 'key_unavailable' });
      }
      throw err;
    }
  }

  private async verifyToken(
    token: string,
    kind: TokenKind,
    expect: ExpectedInstallation | undefined,
  ): Promise<VerifiedToken> {
    // Bound the work before hashing: the hash is the cache key and is computed for every call.
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw parseFailure(token);
    const nowMs = this.now();
    const tokenHash = createHash('sha256').update(token).digest('hex');

    const cached = this.cache.get(tokenHash);
    if (cached !== undefined) {
      this.cacheHits?.inc({ kind });
      checkTimeClaims(cached, nowMs, this.toleranceSeconds);
      checkUsageClaims(cached, kind, expect);
      return { claims: cached, verified: true, tokenHash };
    }

    if (!this.requireSignature) {
      this.warnAtMostOncePerMinute('unverified', nowMs, () =>
        this.logger.warn('accepting Clockify tokens WITHOUT checking their signature (requireSignature: false)'),
      );
      const claims = deepFreeze(checkIdentityClaims(parseCompactToken(token).payload, this.addonKey));
      checkTimeClaims(claims, nowMs, this.toleranceSeconds);
      checkUsageClaims(claims, kind, expect);
      return { claims, verified: false, tokenHash };
    }

    let pending = this.inFlight.get(tokenHash);
    if (pending === undefined) {
      pending = this.establish(token, tokenHash, nowMs).finally(() => this.inFlight.delete(tokenHash));
      this.inFlight.set(tokenHash, pending);
    }
    const claims = await pending;
    checkTimeClaims(claims, nowMs, this.toleranceSeconds);
    checkUsageClaims(claims, kind, expect);
    return { claims, verified: true, tokenHash };
  }

  /** Everything about a token that does not depend on how it is used; caches the outcome. */
  private async establish(token: string, tokenHash: string, nowMs: number): Promise<ClockifyClaims> {
    const parsed = parseCompactToken(token);
    if (!parsed.hasSignature) throw new TokenVerificationError('bad_signature', 'token has no signature');
    await this.checkSignature(token, parsed.kid);
    const claims = deepFreeze(checkIdentityClaims(parsed.payload, this.addonKey));
    checkTimeClaims(claims, nowMs, this.toleranceSeconds);
    // Dropped at `exp`: a token inside the skew tolerance is re-verified rather than served stale.
    this.cache.set(tokenHash, claims, claims.exp === undefined ? undefined : claims.exp * 1000);
    return claims;
  }

  private async checkSignature(token: string, kid: string | undefined): Promise<void> {
    if (kid === undefined || this.remoteKeys === undefined) {
      try {
        await compactVerify(token, this.staticKey, VERIFY_OPTIONS);
      } catch (err) {
        throw this.staticKeyFailure(err);
      }
      return;
    }
    try {
      await compactVerify(token, this.remoteKeys, VERIFY_OPTIONS);
    } catch (err) {
      if (err instanceof errors.JWKSMultipleMatchingKeys) {
        await this.verifyWithAnyOf(token, err);
        return;
      }
      throw this.remoteKeyFailure(err);
    }
  }

  /** Several JWKS keys share the token's `kid` (a rotation in progress): any one may verify it. */
  private async verifyWithAnyOf(token: string, candidates: AsyncIterable<CryptoKey>): Promise<void> {
    try {
      for await (const key of candidates) {
        try {
          await compactVerify(token, key, VERIFY_OPTIONS);
          return;
        } catch (err) {
          if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw err;
        }
      }
    } catch (err) {
      throw this.remoteKeyFailure(err);
    }
    throw new TokenVerificationError(
      'bad_signature',
      'token signature does not verify with any JWKS key for its key id',
    );
  }

  private staticKeyFailure(err: unknown): Error {
    if (err instanceof errors.JWSSignatureVerificationFailed) {
      return new TokenVerificationError(
        'bad_signature',
        'token signature does not verify with the configured Clockify key',
      );
    }
    // Structural problems were refused before jose was called, so this is unexpected: fail closed.
    this.logger.error({ errName: errorName(err) }, 'unexpected error while checking a Clockify token signature');
    return new TokenVerificationError('bad_signature', 'token signature could not be verified');
  }

  private remoteKeyFailure(err: unknown): Error {
    if (err instanceof errors.JWSSignatureVerificationFailed) {
      return new TokenVerificationError(
        'bad_signature',
        'token signature does not verify with the JWKS key for its key id',
      );
    }
    if (err instanceof errors.JWKSNoMatchingKey) {
      return new TokenVerificationError('bad_signature', "no JWKS key matches the token's key id");
    }
    this.warnAtMostOncePerMinute('jwks', this.now(), () =>
      this.logger.warn(
        { errName: errorName(err) },
        'Clockify JWKS is unavailable; tokens with a key id cannot be verified',
      ),
    );
    if (err instanceof errors.JWKSTimeout) return new KeySourceUnavailableError('JWKS endpoint did not answer in time');
    return new KeySourceUnavailableError('JWKS endpoint could not be used to verify the token');
  }

  private warnAtMostOncePerMinute(topic: 'unverified' | 'jwks', nowMs: number, warn: () => void): void {
    const last = this.lastWarningAt.get(topic);
    if (last !== undefined && nowMs - last < REPEATED_WARNING_INTERVAL_MS) return;
    this.lastWarningAt.set(topic, nowMs);
    warn();
  }
}

function parseFailure(token: unknown): TokenVerificationError {
  try {
    parseCompactToken(token);
  } catch (err) {
    if (err instanceof TokenVerificationError) return err;
  }
  return new TokenVerificationError('malformed', 'token is not a compact JWS');
}

/** https only, except on loopback where a test or sidecar serves the keys. */
function parseJwksUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('jwksUrl is not a valid URL');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error('jwksUrl must use https (http is allowed only for loopback hosts)');
  }
  if (url.username !== '' || url.password !== '') throw new Error('jwksUrl must not contain credentials');
  return url;
}

function errorName(err: unknown): string {
  if (err instanceof errors.JOSEError) return err.code;
  return err instanceof Error ? err.name : typeof err;
}

/**
 * Cached claims are shared between callers; freezing stops one caller from editing another's.
 * Iterative, because a payload may nest thousands of levels deep.
 */
function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item !== null && typeof item === 'object' && !Object.isFrozen(item)) {
      Object.freeze(item);
      for (const child of Object.values(item)) stack.push(child);
    }
  }
  return value;
}
