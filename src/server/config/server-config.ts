/**
 * The HTTP layer's options: one defaults object, validated once, then frozen.
 * Error messages name the option to change. Limits default to
 * syncstorage-rs's values (API.md "Limits").
 */

/** Size limits, as `/info/configuration` reports them. */
export interface Limits {
  /** Largest request body, bytes; larger is refused with 413 before it is read. */
  maxRequestBytes: number;
  /** Records per POST; the excess goes to `failed` as "retry bso". */
  maxPostRecords: number;
  /** Payload bytes per POST; the excess goes to `failed` as "retry bytes". */
  maxPostBytes: number;
  /** Records per batch (checked against X-Weave-Total-Records). */
  maxTotalRecords: number;
  /** Payload bytes per batch (checked against X-Weave-Total-Bytes). */
  maxTotalBytes: number;
  /** Payload bytes of one record. */
  maxRecordPayloadBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxRequestBytes: 2_625_536,
  maxPostRecords: 100,
  maxPostBytes: 2_621_440,
  maxTotalRecords: 10_000,
  maxTotalBytes: 262_144_000,
  maxRecordPayloadBytes: 2_621_440,
});

export interface ServerConfig {
  /** Shared with the token server; signs tokens. Required, non-empty. */
  masterSecret: string;
  limits: Limits;
  /** Per-user quota in bytes; null (the default) turns quotas off. */
  quotaBytes: number | null;
  /** Accepted difference between a Hawk `ts` and our clock, seconds. Default 60. */
  skewSeconds: number;
  /** Honour X-Forwarded-Host/-Proto/-Port when computing the Hawk MAC. Default false. */
  trustProxy: boolean;
  /** When set, a token's `node` must equal this URL. Default null (not checked). */
  publicUrl: string | null;
  /**
   * The public URL's path without a trailing slash ("" when it has none, e.g.
   * "/sync"). The API answers under it and at the root (a proxy may strip it
   * or pass it on), and the Hawk MAC is checked against prefix + path, which is
   * what clients sign. A token server builds `api_endpoint` as publicUrl +
   * "/1.5/" + uid, so the prefix is part of it.
   */
  pathPrefix: string;
  /** `Retry-After` seconds on 503. Default 10. */
  retryAfterSeconds: number;
  /** Reported by `/__version__`. */
  version: string;
}

export type ServerConfigInput = Partial<Omit<ServerConfig, 'limits' | 'pathPrefix'>> & {
  masterSecret: string;
  limits?: Partial<Limits>;
};

/** A bad option; the message names it. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid option ${option}: ${message}`);
    this.name = 'ConfigError';
  }
}

function positiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(option, `expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function nonNegative(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(option, `expected a number ≥ 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validate, fill defaults and freeze. Throws `ConfigError`. */
export function resolveServerConfig(input: ServerConfigInput): Readonly<ServerConfig> {
  if (typeof input.masterSecret !== 'string' || input.masterSecret.length === 0) {
    throw new ConfigError('masterSecret', 'expected a non-empty string (SYNC_MASTER_SECRET)');
  }
  const limits = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(input.limits ?? {})) {
    if (!(name in DEFAULT_LIMITS)) throw new ConfigError(`limits.${name}`, 'unknown limit');
    if (value !== undefined)
      limits[name as keyof Limits] = positiveInteger(`limits.${name}`, value);
  }
  const quotaBytes =
    input.quotaBytes === undefined || input.quotaBytes === null
      ? null
      : positiveInteger('quotaBytes', input.quotaBytes);
  let publicUrl: string | null = null;
  let pathPrefix = '';
  if (input.publicUrl !== undefined && input.publicUrl !== null) {
    let url: URL;
    try {
      url = new URL(input.publicUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new ConfigError('publicUrl', `expected an http(s) URL, got ${input.publicUrl}`);
    }
    if (url.search !== '' || url.hash !== '') {
      throw new ConfigError('publicUrl', `expected no query or fragment, got ${input.publicUrl}`);
    }
    publicUrl = input.publicUrl.replace(/\/+$/, '');
    pathPrefix = url.pathname.replace(/\/+$/, '');
  }
  return Object.freeze({
    masterSecret: input.masterSecret,
    limits: Object.freeze(limits),
    quotaBytes,
    skewSeconds: nonNegative('skewSeconds', input.skewSeconds ?? 60),
    trustProxy: input.trustProxy ?? false,
    publicUrl,
    pathPrefix,
    retryAfterSeconds: positiveInteger('retryAfterSeconds', input.retryAfterSeconds ?? 10),
    version: input.version ?? '0.0.0',
  });
}

/** `/info/configuration`: the limits under their wire names. */
export function limitsToWire(limits: Limits): Record<string, number> {
  return {
    max_request_bytes: limits.maxRequestBytes,
    max_post_records: limits.maxPostRecords,
    max_post_bytes: limits.maxPostBytes,
    max_total_records: limits.maxTotalRecords,
    max_total_bytes: limits.maxTotalBytes,
    max_record_payload_bytes: limits.maxRecordPayloadBytes,
  };
}
