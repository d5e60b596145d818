import {
  createHmac,
  createPublicKey,
  generateKeyPair,
  KeyObject,
  sign,
  constants as cryptoConstants,
  type webcrypto,
} from 'node:crypto';
import { promisify } from 'node:util';
import type { CryptoKey } from 'jose';
import {
  MAX_HEADER_LENGTH,
  MAX_TOKEN_LENGTH,
  type ExpectedInstallation,
  type TokenKind,
  type VerificationReason,
} from '@cap/clockify';

export interface HostileTokenCorpusInput {
  /** The private half of `publicKeyPem`: hostile tokens are otherwise valid, so each fails for one reason. */
  readonly privateKey: KeyObject | CryptoKey;
  readonly publicKeyPem: string;
  readonly addonKey: string;
  readonly workspaceId: string;
  readonly addonId: string;
}

export interface HostileTokenCase {
  readonly name: string;
  readonly token: string;
  /** The kind to verify it as (the route it would arrive on). */
  readonly kind: TokenKind;
  readonly expect?: ExpectedInstallation;
  /** The reason a verifier trusting `publicKeyPem` must give. */
  readonly reason: VerificationReason;
}

type Signer = (signingInput: string) => string;

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const generateKeys = promisify(generateKeyPair);
const segment = (value: unknown): string => b64url(typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Tokens an attacker (or a broken sender) could present, each paired with the rejection a
 * correct verifier must give. Tokens are otherwise valid and signed by the right key wherever
 * that matters, so a verifier that skips one check lets exactly that case through. Exported from
 * the package so HTTP tests of the ingress can replay the same corpus against its routes.
 */
export async function hostileTokenCorpus(input: HostileTokenCorpusInput): Promise<HostileTokenCase[]> {
  const privateKey = toKeyObject(input.privateKey);
  const now = Math.floor(Date.now() / 1000);
  const { addonKey, workspaceId, addonId } = input;

  const rsa =
    (hash: 'sha256' | 'sha384' | 'sha512', key: KeyObject = privateKey): Signer =>
    (data) =>
      sign(hash, Buffer.from(data), key).toString('base64url');
  const rs256 = rsa('sha256');
  const pss256: Signer = (data) =>
    sign('sha256', Buffer.from(data), {
      key: privateKey,
      padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    }).toString('base64url');
  const hmac =
    (secret: string | Buffer): Signer =>
    (data) =>
      createHmac('sha256', secret).update(data).digest('base64url');
  const unsigned: Signer = () => '';

  const [otherRsa, ec] = await Promise.all([
    generateKeys('rsa', { modulusLength: 2048 }),
    generateKeys('ec', { namedCurve: 'P-256' }),
  ]);
  const es256: Signer = (data) =>
    sign('sha256', Buffer.from(data), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');

  const rs256Header = { alg: 'RS256', typ: 'JWT' };
  const base = { iss: 'clockify', sub: addonKey, type: 'addon', iat: now };
  const webhook = { ...base, workspaceId, addonId };
  const installation = {
    ...webhook,
    user: 'owner-user-id',
    backendUrl: 'https://api.clockify.me/api',
    reportsUrl: 'https://reports.api.clockify.me',
  };
  const user = { ...installation, exp: now + 1800, language: 'EN', theme: 'DEFAULT', workspaceRole: 'OWNER' };
  const without = (claims: Record<string, unknown>, name: string): Record<string, unknown> => {
    const copy = { ...claims };
    delete copy[name];
    return copy;
  };

  /** A compact JWS from a header and payload (objects are JSON-encoded, strings taken as JSON text). */
  const jws = (header: unknown, payload: unknown, signer: Signer = rs256): string => {
    const input = `${segment(header)}.${segment(payload)}`;
    return `${input}.${signer(input)}`;
  };
  const good = jws(rs256Header, webhook);
  const [goodHeader, goodPayload, goodSignature] = good.split('.') as [string, string, string];

  const publicJwk = createPublicKey(input.publicKeyPem).export({ format: 'jwk' });
  const attackerJwk = otherRsa.publicKey.export({ format: 'jwk' });
  const publicDer = createPublicKey(input.publicKeyPem).export({ type: 'spki', format: 'der' });

  const bigHeader = { ...rs256Header, pad: 'x'.repeat(MAX_HEADER_LENGTH) };
  const bigPayload = { ...webhook, pad: 'x'.repeat(MAX_TOKEN_LENGTH) };

  const cases: HostileTokenCase[] = [
    // Algorithm confusion: refused from the header alone, before any key is used.
    {
      name: 'alg none, unsigned',
      token: jws({ alg: 'none', typ: 'JWT' }, webhook, unsigned),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'alg None (mixed case), unsigned',
      token: jws({ alg: 'None' }, webhook, unsigned),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'alg none carrying an RSA signature',
      token: jws({ alg: 'none' }, webhook),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'HS256 keyed with the public key PEM text',
      token: jws({ alg: 'HS256', typ: 'JWT' }, webhook, hmac(input.publicKeyPem)),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'HS256 keyed with the public key DER',
      token: jws({ alg: 'HS256', typ: 'JWT' }, webhook, hmac(publicDer)),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'RS384 signed by the right key',
      token: jws({ alg: 'RS384' }, webhook, rsa('sha384')),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'RS512 signed by the right key',
      token: jws({ alg: 'RS512' }, webhook, rsa('sha512')),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'PS256 signed by the right key',
      token: jws({ alg: 'PS256' }, webhook, pss256),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'ES256 signed by an EC key',
      token: jws({ alg: 'ES256' }, webhook, es256),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    {
      name: 'alg spelled rs256 (lower case)',
      token: jws({ alg: 'rs256' }, webhook),
      kind: 'webhook',
      reason: 'unsupported_alg',
    },
    { name: 'alg missing', token: jws({ typ: 'JWT' }, webhook), kind: 'webhook', reason: 'malformed' },

    // Signature.
    {
      name: 'RS256 signed by another RSA key',
      token: jws(rs256Header, webhook, rsa('sha256', otherRsa.privateKey)),
      kind: 'webhook',
      reason: 'bad_signature',
    },
    {
      name: 'signature stripped (header.payload.)',
      token: `${goodHeader}.${goodPayload}.`,
      kind: 'webhook',
      reason: 'bad_signature',
    },
    {
      name: 'signature truncated by two characters',
      token: `${goodHeader}.${goodPayload}.${goodSignature.slice(0, -2)}`,
      kind: 'webhook',
      reason: 'bad_signature',
    },
    {
      name: 'payload swapped after signing',
      token: `${goodHeader}.${segment({ ...webhook, workspaceId: 'victim-workspace' })}.${goodSignature}`,
      kind: 'webhook',
      reason: 'bad_signature',
    },

    // Key material or extensions in the header, even with a signature that verifies.
    {
      name: 'embedded jwk of the right key, validly signed',
      token: jws({ ...rs256Header, jwk: publicJwk }, webhook),
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'embedded jwk of an attacker key, signed by it',
      token: jws({ ...rs256Header, jwk: attackerJwk }, webhook, rsa('sha256', otherRsa.privateKey)),
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'jku header',
      token: jws({ ...rs256Header, jku: 'https://attacker.example/jwks.json' }, webhook),
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'x5u header',
      token: jws({ ...rs256Header, x5u: 'https://attacker.example/cert.pem' }, webhook),
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'x5c header',
      token: jws({ ...rs256Header, x5c: [publicDer.toString('base64')] }, webhook),
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'crit header',
      token: jws({ ...rs256Header, crit: ['exp'] }, webhook),
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'b64 false (unencoded payload)',
      token: jws({ ...rs256Header, b64: false, crit: ['b64'] }, webhook),
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'b64 false without crit',
      token: jws({ ...rs256Header, b64: false }, webhook),
      kind: 'webhook',
      reason: 'malformed',
    },

    // Time.
    {
      name: 'expired user token',
      token: jws(rs256Header, { ...user, iat: now - 7200, exp: now - 3600 }),
      kind: 'user',
      reason: 'expired',
    },
    {
      name: 'expired webhook token',
      token: jws(rs256Header, { ...webhook, exp: now - 3600 }),
      kind: 'webhook',
      reason: 'expired',
    },
    {
      name: 'not yet valid (nbf in an hour)',
      token: jws(rs256Header, { ...webhook, nbf: now + 3600 }),
      kind: 'webhook',
      reason: 'not_yet_valid',
    },
    {
      name: 'exp is a string',
      token: jws(rs256Header, { ...user, exp: String(now + 1800) }),
      kind: 'user',
      reason: 'malformed',
    },

    // Identity claims.
    {
      name: 'wrong iss',
      token: jws(rs256Header, { ...webhook, iss: 'clockify.evil' }),
      kind: 'webhook',
      reason: 'wrong_issuer',
    },
    { name: 'missing iss', token: jws(rs256Header, without(webhook, 'iss')), kind: 'webhook', reason: 'missing_claim' },
    {
      name: 'wrong sub (another add-on key)',
      token: jws(rs256Header, { ...webhook, sub: `${addonKey}-other` }),
      kind: 'webhook',
      reason: 'wrong_subject',
    },
    {
      name: 'wrong type',
      token: jws(rs256Header, { ...webhook, type: 'user' }),
      kind: 'webhook',
      reason: 'wrong_type',
    },
    {
      name: 'missing type',
      token: jws(rs256Header, without(webhook, 'type')),
      kind: 'webhook',
      reason: 'missing_claim',
    },

    // Claims each kind needs.
    {
      name: 'webhook token without workspaceId',
      token: jws(rs256Header, without(webhook, 'workspaceId')),
      kind: 'webhook',
      reason: 'missing_claim',
    },
    {
      name: 'webhook token without addonId',
      token: jws(rs256Header, without(webhook, 'addonId')),
      kind: 'webhook',
      reason: 'missing_claim',
    },
    {
      name: 'installation token without workspaceId',
      token: jws(rs256Header, without(installation, 'workspaceId')),
      kind: 'installation',
      reason: 'missing_claim',
    },
    {
      name: 'user token without exp',
      token: jws(rs256Header, without(user, 'exp')),
      kind: 'user',
      reason: 'missing_claim',
    },

    // Valid tokens of the wrong kind: genuine, unexpired, for this installation, but presented
    // where their kind does not belong (a workspace user's iframe token on a lifecycle route…).
    ...wrongKindCases({ webhook, installation, user, lifecycle: base }, (claims) => jws(rs256Header, claims)),

    // Genuine tokens of another installation (cross-workspace replay).
    {
      name: 'webhook token of another workspace',
      token: good,
      kind: 'webhook',
      expect: { workspaceId: `${workspaceId}-other`, addonId },
      reason: 'workspace_mismatch',
    },
    {
      name: 'webhook token of another installation',
      token: good,
      kind: 'webhook',
      expect: { workspaceId, addonId: `${addonId}-other` },
      reason: 'addon_mismatch',
    },
    {
      name: 'lifecycle token of another workspace',
      token: good,
      kind: 'lifecycle',
      expect: { workspaceId: `${workspaceId}-other` },
      reason: 'workspace_mismatch',
    },
    {
      name: 'user token of another workspace',
      token: jws(rs256Header, user),
      kind: 'user',
      expect: { workspaceId: `${workspaceId}-other` },
      reason: 'workspace_mismatch',
    },

    // Shape.
    { name: 'empty string', token: '', kind: 'webhook', reason: 'malformed' },
    {
      name: 'truncated inside the payload',
      token: good.slice(0, goodHeader.length + 1 + Math.floor(goodPayload.length / 2)),
      kind: 'webhook',
      reason: 'malformed',
    },
    { name: 'four segments', token: `${good}.${goodSignature}`, kind: 'webhook', reason: 'malformed' },
    {
      name: 'five segments (JWE shape)',
      token: `${goodHeader}.${goodPayload}.${goodPayload}.${goodPayload}.${goodSignature}`,
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'bad base64 in header',
      token: `${goodHeader.slice(0, 4)}+${goodHeader.slice(5)}.${goodPayload}.${goodSignature}`,
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'bad base64 in payload (padding)',
      token: `${goodHeader}.${goodPayload}==.${goodSignature}`,
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'bad base64 in signature',
      token: `${goodHeader}.${goodPayload}.${goodSignature.slice(0, 10)}!${goodSignature.slice(11)}`,
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'non-canonical base64 in payload',
      token: nonCanonicalPayloadToken(webhook, rs256),
      kind: 'webhook',
      reason: 'malformed',
    },
    { name: 'header not JSON', token: jws('{"alg":"RS256"', webhook), kind: 'webhook', reason: 'malformed' },
    {
      name: 'header not UTF-8',
      token: `${b64url(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))}.${goodPayload}.${goodSignature}`,
      kind: 'webhook',
      reason: 'malformed',
    },
    { name: 'header is a JSON array', token: jws('["RS256"]', webhook), kind: 'webhook', reason: 'malformed' },
    {
      name: 'payload is a JSON array',
      token: jws(rs256Header, '[{"iss":"clockify"}]'),
      kind: 'webhook',
      reason: 'malformed',
    },
    { name: 'payload is a JSON number', token: jws(rs256Header, '42'), kind: 'webhook', reason: 'malformed' },
    { name: 'payload is JSON null', token: jws(rs256Header, 'null'), kind: 'webhook', reason: 'malformed' },
    {
      name: 'payload not JSON',
      token: jws(rs256Header, 'iss=clockify&type=addon'),
      kind: 'webhook',
      reason: 'malformed',
    },
    { name: 'header larger than 8 KiB', token: jws(bigHeader, webhook), kind: 'webhook', reason: 'malformed' },
    { name: 'token longer than 16 KiB', token: jws(rs256Header, bigPayload), kind: 'webhook', reason: 'malformed' },
    {
      name: 'space inside',
      token: `${goodHeader}.${goodPayload.slice(0, 8)} ${goodPayload.slice(8)}.${goodSignature}`,
      kind: 'webhook',
      reason: 'malformed',
    },
    {
      name: 'newline inside',
      token: `${goodHeader}.\n${goodPayload}.${goodSignature}`,
      kind: 'webhook',
      reason: 'malformed',
    },
    { name: 'trailing newline', token: `${good}\n`, kind: 'webhook', reason: 'malformed' },
  ];
  return cases;
}

/**
 * Each valid token kind presented as each other kind it must not pass for. Webhook and lifecycle
 * tokens carry the same claims, so "webhook token as lifecycle token" (and back) is told apart by
 * the stored token hashes, not by claims: those pairs are not here but in the ingress's HTTP tests.
 */
function wrongKindCases(
  claims: Record<'webhook' | 'installation' | 'user' | 'lifecycle', Record<string, unknown>>,
  sign: (claims: Record<string, unknown>) => string,
): HostileTokenCase[] {
  const pairs: ReadonlyArray<readonly [keyof typeof claims, TokenKind]> = [
    ['user', 'lifecycle'],
    ['user', 'webhook'],
    ['user', 'installation'],
    ['webhook', 'user'],
    ['webhook', 'installation'],
    ['installation', 'user'],
    ['lifecycle', 'user'],
    ['lifecycle', 'installation'],
  ];
  return pairs.map(([from, as]) => ({
    name: `valid ${from} token presented as a ${as} token`,
    token: sign(claims[from]),
    kind: as,
    reason: 'wrong_kind' as const,
  }));
}

function toKeyObject(key: KeyObject | CryptoKey): KeyObject {
  return key instanceof KeyObject ? key : KeyObject.from(key as unknown as webcrypto.CryptoKey);
}

/**
 * The same payload spelled with stray low bits in its last base64url character: Node would
 * decode it to identical bytes, so accepting it would give one token two spellings.
 */
function nonCanonicalPayloadToken(claims: Record<string, unknown>, signer: Signer): string {
  const header = segment({ alg: 'RS256', typ: 'JWT' });
  let json = JSON.stringify(claims);
  // Only lengths that leave unused bits in the last character (bytes not a multiple of 3) work.
  while (Buffer.byteLength(json) % 3 === 0) json += ' ';
  const canonical = segment(json);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(canonical.at(-1) ?? 'A');
  const payload = `${canonical.slice(0, -1)}${alphabet[last ^ 1]}`;
  const signingInput = `${header}.${payload}`;
  return `${signingInput}.${signer(signingInput)}`;
}
