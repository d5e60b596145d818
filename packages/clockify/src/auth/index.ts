export * from './sign.js';
export { TokenVerificationError, KeySourceUnavailableError, type VerificationReason } from './errors.js';
export { TOKEN_KINDS, type TokenKind, type ClockifyClaims, type ExpectedInstallation } from './claims.js';
export {
  DEFAULT_CLOCKIFY_PUBLIC_KEY_FILE,
  loadPublicKeyPem,
  inspectRsaPublicKey,
  isDefaultClockifyKey,
  type LoadedPublicKey,
  type PublicKeySource,
  type InspectedPublicKey,
} from './public-key.js';
export { TokenVerifier, type VerifiedToken, type VerifierOptions } from './verifier.js';
export { MAX_TOKEN_LENGTH, MAX_HEADER_LENGTH } from './jws.js';
