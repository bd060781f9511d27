/**
 * The Firefox Accounts side of a simulated client in token-server mode: the
 * OAuth access token it shows the token server and its `X-KeyID`. Two kinds:
 *
 * - `SignedAccount`: a token signed here with a local RS256 key, shaped as
 *   FxA's `jwt_access_token.js` writes them (typ `at+JWT`, `sub`, the
 *   oldsync `scope`, `fxa-generation`), for a server configured with that
 *   key's public JWK (`--fxa-oauth-primary-jwk`) — as Mozilla's tokenserver
 *   load tests sign theirs.
 * - `ListedAccount`: a token an FxA issued (read from a file); the server
 *   verifies it against that FxA.
 *
 * Firefox keeps its access token until it expires; so does a simulated
 * client (the token server remembers verified tokens by digest).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, type JWK } from 'jose';
import { LoadOptionsError } from './load-options.js';

const OLDSYNC_SCOPE = 'https://identity.mozilla.com/apps/oldsync';
/** generation and keys_changed_at of every simulated account (ms; any constant keeps them valid). */
const ACCOUNT_GENERATION = 1_700_000_000_000;
const ACCESS_TOKEN_SECONDS = 24 * 3600;
/** A token is replaced this long before it expires. */
const RENEW_MARGIN_SECONDS = 300;

export interface FxaAccount {
  /** The account's access token: the same one until shortly before it expires. */
  accessToken(): Promise<string>;
  /** `X-KeyID`: `<keys_changed_at>-<base64url of the client state>`. */
  readonly keyId: string;
}

/** The RS256 private key in `path` (PEM, or a JWK as JSON); the error names the option. */
export function loadSigningKey(path: string, option = 'fxa-key'): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LoadOptionsError(option, `cannot read ${path}: ${(error as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = text.trimStart().startsWith('{')
      ? createPrivateKey({ key: JSON.parse(text) as JWK & { kty: string }, format: 'jwk' })
      : createPrivateKey(text);
  } catch (error) {
    throw new LoadOptionsError(option, `${path} holds no private key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new LoadOptionsError(option, `${path} holds a ${key.asymmetricKeyType} key, not RSA`);
  }
  return key;
}

/** The public JWK the server verifies `key`'s tokens with (`--fxa-oauth-primary-jwk`). */
export function publicJwkOf(key: KeyObject): JWK {
  const { kty, n, e } = createPublicKey(key).export({ format: 'jwk' });
  return { kty, n, e, alg: 'RS256', use: 'sig' };
}

/** Simulated account `index`'s FxA uid: 32 hex digits, the same in every run. */
export function simulatedFxaUid(index: number): string {
  return createHash('sha256').update(`syncstorage-loadtest:${index}`).digest('hex').slice(0, 32);
}

function keyIdFor(fxaUid: string): string {
  const clientState = createHash('sha256').update(fxaUid).digest().subarray(0, 16);
  return `${ACCOUNT_GENERATION}-${clientState.toString('base64url')}`;
}

export class SignedAccount implements FxaAccount {
  readonly keyId: string;
  #token: { value: Promise<string>; renewAt: number } | undefined;

  constructor(
    private readonly key: KeyObject,
    readonly fxaUid: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.keyId = keyIdFor(fxaUid);
  }

  accessToken(): Promise<string> {
    const now = Math.floor(this.clock() / 1000);
    if (!this.#token || now >= this.#token.renewAt) {
      const expires = now + ACCESS_TOKEN_SECONDS;
      this.#token = { renewAt: expires - RENEW_MARGIN_SECONDS, value: this.#sign(now, expires) };
    }
    return this.#token.value;
  }

  #sign(now: number, expires: number): Promise<string> {
    return new SignJWT({ scope: OLDSYNC_SCOPE, 'fxa-generation': ACCOUNT_GENERATION })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+JWT' })
      .setSubject(this.fxaUid)
      .setIssuedAt(now)
      .setExpirationTime(expires)
      .sign(this.key);
  }
}

export class ListedAccount implements FxaAccount {
  constructor(
    private readonly token: string,
    readonly keyId: string,
  ) {}

  accessToken(): Promise<string> {
    return Promise.resolve(this.token);
  }
}

/**
 * Accounts from a file of FxA access tokens, one per line:
 * `<access token> [<X-KeyID>]` (default X-KeyID: derived from the line
 * number, a client state no other line has). Blank lines and `#` comments
 * are skipped.
 */
export function loadListedAccounts(path: string, option = 'fxa-tokens'): ListedAccount[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LoadOptionsError(option, `cannot read ${path}: ${(error as Error).message}`);
  }
  const accounts: ListedAccount[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [token, keyId, extra] = line.split(/\s+/);
    if (token === undefined || extra !== undefined) {
      throw new LoadOptionsError(option, `${path}:${i + 1}: expected "<access token> [<X-KeyID>]"`);
    }
    accounts.push(new ListedAccount(token, keyId ?? keyIdFor(`listed:${i}`)));
  }
  if (accounts.length === 0) throw new LoadOptionsError(option, `${path} lists no token`);
  return accounts;
}
