/**
 * One `GET /1.0/sync/1.5` apart from HTTP (syncstorage-rs
 * `TokenserverRequest::from_request` + `get_tokenserver_result`): verify
 * the OAuth token, read the key id, find or allocate the user, apply
 * Mozilla's rules, record the new generation / client state, and mint the
 * tokenlib token the storage node verifies.
 */
import { mintToken } from '../server/auth/tokenlib.js';
import { hashedDeviceId, hashedFxaUid } from './account-hash.js';
import type { TokenVerifier } from './fxa-verifier.js';
import { fxaKid, parseKeyId } from './key-id.js';
import type { TokenserverConfig } from './tokenserver-config.js';
import { tokenserverErrors } from './tokenserver-errors.js';
import type { TokenserverStore } from './tokenserver-store.js';
import { planUserUpdate, validateClaims, type AuthClaims } from './user-rules.js';

export interface TokenRequest {
  authorization: string | undefined;
  keyId: string | string[] | undefined;
  clientState: string | string[] | undefined;
  /** `?duration=` as given. */
  duration: unknown;
}

/** The answer's body, in syncstorage-rs's field order. */
export interface TokenResponse {
  id: string;
  key: string;
  uid: number;
  api_endpoint: string;
  duration: number;
  hashed_fxa_uid: string;
  hashalg: 'sha256';
  node_type: string;
}

export interface TokenIssuerOptions {
  config: Readonly<TokenserverConfig>;
  store: TokenserverStore;
  verifier: TokenVerifier;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** Told about refused accounts (allow-list), so an operator can add them. */
  onRefused?: (fxaUid: string) => void;
}

/** The Bearer token (everything after "Bearer "; it may contain spaces). */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined) throw tokenserverErrors.unauthorized('No Authorization header');
  const space = authorization.indexOf(' ');
  if (space < 0) throw tokenserverErrors.unauthorized('Invalid Authorization header format');
  if (authorization.slice(0, space).toLowerCase() !== 'bearer') {
    throw tokenserverErrors.unsupportedScheme();
  }
  return authorization.slice(space + 1);
}

/** `?duration=N` when it is an integer not above the configured one; anything else is ignored. */
export function tokenDuration(query: unknown, max: number): number {
  if (typeof query !== 'string' || !/^\d{1,15}$/.test(query)) return max;
  const asked = Number(query);
  return asked <= max ? asked : max;
}

const zeroToNull = (value: number | null): number | null => (value === 0 ? null : value);

export class TokenIssuer {
  readonly #config: Readonly<TokenserverConfig>;
  readonly #store: TokenserverStore;
  readonly #verifier: TokenVerifier;
  readonly #clock: () => number;
  readonly #onRefused: (fxaUid: string) => void;
  readonly #allowed: ReadonlySet<string>;

  constructor(options: TokenIssuerOptions) {
    this.#config = options.config;
    this.#store = options.store;
    this.#verifier = options.verifier;
    this.#clock = options.clock ?? Date.now;
    this.#onRefused = options.onRefused ?? (() => undefined);
    this.#allowed = new Set(options.config.allowedUsers);
  }

  readonly #hashCache = new Map<string, { hashedUid: string; deviceId: string }>();

  /** hashed_fxa_uid and hashed_device_id, remembered per FxA uid (bounded). */
  #hashes(fxaUid: string): { hashedUid: string; deviceId: string } {
    let hashes = this.#hashCache.get(fxaUid);
    if (!hashes) {
      const hashedUid = hashedFxaUid(this.#config.metricsHashSecret, fxaUid);
      hashes = { hashedUid, deviceId: hashedDeviceId(this.#config.metricsHashSecret, hashedUid) };
      if (this.#hashCache.size >= 10_000) this.#hashCache.clear();
      this.#hashCache.set(fxaUid, hashes);
    }
    return hashes;
  }

  async issue(request: TokenRequest): Promise<TokenResponse> {
    const config = this.#config;
    const account = await this.#verifier.verify(bearerToken(request.authorization));
    const keyId = parseKeyId(request.keyId, request.clientState);
    const email = `${account.fxaUid}@${config.emailDomain}`;
    if (
      this.#allowed.size > 0 &&
      !this.#allowed.has(account.fxaUid.toLowerCase()) &&
      !this.#allowed.has(email.toLowerCase())
    ) {
      this.#onRefused(account.fxaUid);
      throw tokenserverErrors.userNotAllowed();
    }
    const auth: AuthClaims = {
      clientState: keyId.clientState,
      generation: zeroToNull(account.generation),
      keysChangedAt: zeroToNull(keyId.keysChangedAt),
    };
    const user = await this.#store.getOrCreateUser(
      {
        email,
        generation: auth.generation ?? 0,
        clientState: auth.clientState,
        keysChangedAt: auth.keysChangedAt,
      },
      { allowNewUsers: config.allowNewUsers, capacityReleaseRate: config.capacityReleaseRate },
    );
    const duration = tokenDuration(request.duration, config.tokenDurationSeconds);
    validateClaims(auth, user);
    const update = planUserUpdate(auth, user);
    let uid = user.uid;
    if (update.newClientState) {
      uid = await this.#store.replaceWithNewClientState(
        {
          email,
          generation: update.generation,
          clientState: auth.clientState,
          keysChangedAt: update.keysChangedAt,
        },
        user.node,
      );
    } else if (update.changed) {
      await this.#store.updateUser(email, update.generation, update.keysChangedAt);
    }
    const { hashedUid, deviceId } = this.#hashes(account.fxaUid);
    const token = mintToken(config.masterSecret, {
      uid,
      node: user.node,
      expires: Math.floor(this.#clock() / 1000) + duration,
      fxaUid: account.fxaUid,
      fxaKid: fxaKid(update.keysChangedAt, update.generation, auth.clientState),
      hashedFxaUid: hashedUid,
      hashedDeviceId: deviceId,
    });
    return {
      id: token.id,
      key: token.key,
      uid,
      api_endpoint: `${user.node}/1.5/${uid}`,
      duration,
      hashed_fxa_uid: hashedUid,
      hashalg: 'sha256',
      node_type: config.nodeType,
    };
  }
}
