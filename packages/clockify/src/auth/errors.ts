export type VerificationReason =
  | 'malformed'
  | 'unsupported_alg'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_subject'
  | 'wrong_type'
  | 'missing_claim'
  | 'wrong_kind'
  | 'workspace_mismatch'
  | 'addon_mismatch';

/**
 * A token was rejected. `status` is what an HTTP edge should answer: 403 when the token is
 * genuine but belongs to another workspace or installation, 401 for everything else.
 *
 * Messages are fixed phrases chosen here; they never echo the token, its segments or any
 * attacker-chosen header or claim value, so they are safe to log and to return to the caller.
 */
export class TokenVerificationError extends Error {
  readonly reason: VerificationReason;
  readonly status: 401 | 403;

  constructor(reason: VerificationReason, message: string) {
    super(message);
    this.name = 'TokenVerificationError';
    this.reason = reason;
    this.status = reason === 'workspace_mismatch' || reason === 'addon_mismatch' ? 403 : 401;
  }
}

/**
 * The token could not be judged because the JWKS endpoint was unreachable, slow or served
 * garbage. This is our outage, not the caller's fault: answer 503 so the sender retries, and
 * never turn it into a 401.
 */
export class KeySourceUnavailableError extends Error {
  readonly status = 503 as const;

  constructor(message: string) {
    super(message);
    this.name = 'KeySourceUnavailableError';
  }
}
