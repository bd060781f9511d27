/**
 * Options of a load run: one defaults object, validated once, then frozen.
 * Messages name the option (as the CLI flag) to change.
 */
import type { KeyObject } from 'node:crypto';
import type { FxaAccount } from './fxa-accounts.js';

/** Clients start at the token server at `url`, with FxA OAuth tokens of one of two kinds. */
export type TokenserverMode =
  /** Signed here with this RS256 key, whose public JWK the server is configured with. */
  | { signingKey: KeyObject; accounts?: undefined }
  /** Issued by an FxA the server verifies against: one simulated user each. */
  | { accounts: readonly FxaAccount[]; signingKey?: undefined };

export interface LoadOptions {
  /** Server origin, e.g. "http://127.0.0.1:8000" (the token server's, with `tokenserver`). Required. */
  url: string;
  /** The master secret the server verifies tokens with. Required unless `tokenserver`. */
  secret?: string;
  /** Get each client's credentials from `GET <url>/1.0/sync/1.5` instead of minting them. */
  tokenserver?: TokenserverMode;
  /** Simulated users (Firefox profiles). Default 100. */
  users?: number;
  /** Seconds to start new scenarios for. Default 30. */
  durationSeconds?: number;
  /** Scenarios in flight at once. Default 20. */
  concurrency?: number;
  /** uid of the first user; users are consecutive. Default 100000. */
  firstUid?: number;
  /** Seed of the request mix. Default: the clock. */
  seed?: number;
  /** Also sync the `tabs` collection each time. Default false. */
  tabs?: boolean;
  /** ms before a request is abandoned. Default 30000. */
  timeoutMs?: number;
  /** ms a worker pauses after a scenario that got no answer at all (server down). Default 200. */
  errorPauseMs?: number;
}

export type ResolvedLoadOptions = Readonly<
  Required<Omit<LoadOptions, 'tokenserver'>> & Pick<LoadOptions, 'tokenserver'>
>;

export class LoadOptionsError extends Error {
  readonly code = 'LOADTEST_BAD_OPTION';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid option --${option}: ${message}`);
    this.name = 'LoadOptionsError';
  }
}

function integer(option: string, value: number | undefined, fallback: number, min: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < min) {
    throw new LoadOptionsError(option, `expected an integer ≥ ${min}, got ${String(value)}`);
  }
  return result;
}

export function resolveLoadOptions(options: LoadOptions): ResolvedLoadOptions {
  let url: URL;
  try {
    url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new LoadOptionsError(
      'url',
      `expected an http(s) URL, got ${JSON.stringify(options.url)}`,
    );
  }
  const { tokenserver } = options;
  if (tokenserver === undefined && (typeof options.secret !== 'string' || options.secret === '')) {
    throw new LoadOptionsError('secret', 'expected the non-empty master secret');
  }
  if (tokenserver && !tokenserver.signingKey && !tokenserver.accounts?.length) {
    throw new LoadOptionsError('tokenserver', 'expected --fxa-key or --fxa-tokens');
  }
  const durationSeconds = options.durationSeconds ?? 30;
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
    throw new LoadOptionsError('duration', `expected seconds > 0, got ${String(durationSeconds)}`);
  }
  const firstUid = integer('first-uid', options.firstUid, 100_000, 1);
  const listed = tokenserver?.accounts?.length;
  const users = integer('users', options.users, listed ?? 100, 1);
  if (listed !== undefined && users > listed) {
    throw new LoadOptionsError('users', `only ${listed} FxA tokens are listed (--fxa-tokens)`);
  }
  // API.md "Paths": uids are 1–10 digits.
  if (firstUid + users - 1 > 9_999_999_999) {
    throw new LoadOptionsError('first-uid', 'uids must stay within 10 digits');
  }
  return Object.freeze({
    url: url.href.replace(/\/+$/, ''),
    secret: options.secret ?? '',
    tokenserver,
    users,
    durationSeconds,
    concurrency: integer('concurrency', options.concurrency, 20, 1),
    firstUid,
    seed: integer('seed', options.seed, Date.now() % 2 ** 31, 0),
    tabs: options.tabs ?? false,
    timeoutMs: integer('timeout', options.timeoutMs, 30_000, 1),
    errorPauseMs: integer('error-pause', options.errorPauseMs, 200, 0),
  });
}
