/**
 * `serve` configuration from flags, then environment, then an optional JSON
 * file, then defaults (that order of precedence). Validated once and frozen;
 * every error names the option by flag, variable and file key.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Limits } from '../../server/config/server-config.js';
import { ConfigError } from '../../server/config/server-config.js';
import {
  resolveTokenserverConfig,
  type TokenserverConfigInput,
} from '../../tokenserver/tokenserver-config.js';
import { redactUrl } from '../database-startup-error.js';
import { envName, SERVE_OPTIONS, type OptionSpec } from './option-table.js';

export type CacheMode = 'memory' | 'memcached' | 'none';

/** The token server's part of the configuration (`tokenserver.*`). */
export interface TokenserverCliConfig {
  enabled: boolean;
  /** Default: the storage database (then one driver serves both). */
  database: string;
  /** null: `serve` registers its own public URL. */
  initNodeUrl: string | null;
  initNodeCapacity: number;
  /** Whether init_node_capacity was given (then an existing node row gets it too). */
  initNodeCapacitySet: boolean;
  /** For `resolveTokenserverConfig` (the master secret is added by the command). */
  options: Omit<TokenserverConfigInput, 'masterSecret'>;
}

export interface ServeConfig {
  host: string;
  port: number;
  /** null: use (or create) `<dataDir>/master-secret`. */
  masterSecret: string | null;
  database: string;
  dataDir: string;
  limits: Partial<Limits>;
  /** null when quotas are off. */
  quotaBytes: number | null;
  cache: CacheMode;
  memcached: string[];
  cachedCollections: string[];
  cacheOnlyCollections: string[];
  /** Seconds a memcached server that failed is left alone before it is tried again. */
  memcachedRetrySeconds: number;
  publicUrl: string | null;
  trustProxy: boolean;
  skewSeconds: number;
  retryAfterSeconds: number;
  logLevel: string;
  tokenserver: Readonly<TokenserverCliConfig>;
  /** Where the admin listener listens; null when it is off. */
  adminListen: { host: string; port: number } | null;
  /** null: use (or create) `<dataDir>/admin-token`. */
  adminToken: string | null;
  /** 0: the server never purges by itself. */
  purgeIntervalSeconds: number;
}

export class CliConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'CliConfigError';
  }
}

/** How an option is named to the user: its flag, variable and file key, never an internal name. */
export function label(spec: OptionSpec): string {
  return `${spec.flag} (${envName(spec)}, file key ${spec.path.join('.')})`;
}

function parseValue(spec: OptionSpec, raw: unknown): unknown {
  const fail = (expected: string): never => {
    throw new CliConfigError(
      `invalid ${label(spec)}: expected ${expected}, got ${JSON.stringify(raw)}`,
    );
  };
  switch (spec.kind) {
    case 'string': {
      if (typeof raw !== 'string' || raw === '') return fail('a non-empty string');
      if (spec.choices && !spec.choices.includes(raw)) return fail(spec.choices.join(', '));
      return raw;
    }
    case 'integer': {
      // Negative numbers parse too, so -5 and 0 get the same message.
      const n = typeof raw === 'string' && /^-?\d{1,15}$/.test(raw.trim()) ? Number(raw) : raw;
      const min = spec.min ?? 0;
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= min
        ? n
        : fail(`an integer ≥ ${min}`);
    }
    case 'number': {
      const n = typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
      return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fail('a number ≥ 0');
    }
    case 'json': {
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return raw;
      if (typeof raw === 'string') {
        try {
          const parsed: unknown = JSON.parse(raw);
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
            return parsed;
        } catch {
          // reported below
        }
      }
      return fail('a JSON object');
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return fail('true or false');
    case 'list': {
      const items =
        typeof raw === 'string'
          ? raw.split(',')
          : Array.isArray(raw)
            ? raw
            : fail('a comma-separated list');
      const list = (items as unknown[]).map((item) =>
        typeof item === 'string' ? item.trim() : fail('a list of strings'),
      );
      return list.filter((item) => item !== '');
    }
  }
}

/** Flatten a config file into `path.join('.') → value`, refusing unknown keys (typos). */
function readFile(path: string): Map<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliConfigError(`cannot read --config ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const kind = Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed;
    throw new CliConfigError(
      `--config ${path} must hold a JSON object ({"port": 8000, …}), not ${kind}`,
    );
  }
  const known = new Set(SERVE_OPTIONS.map((spec) => spec.path.join('.')));
  const values = new Map<string, unknown>();
  const walk = (value: unknown, prefix: string[]): void => {
    const key = prefix.join('.');
    if (known.has(key)) {
      values.set(key, value);
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...prefix, k]);
    } else {
      throw new CliConfigError(`unknown key ${key} in --config ${path}`);
    }
  };
  walk(parsed, []);
  return values;
}

export interface ConfigSources {
  /** Commander's parsed options (attribute names = `OptionSpec.name`). */
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  /** Path of a JSON config file. */
  file?: string;
}

/** Resolve, validate and freeze. Throws `CliConfigError` naming the option. */
export function loadServeConfig(sources: ConfigSources): Readonly<ServeConfig> {
  const file = sources.file ? readFile(sources.file) : new Map<string, unknown>();
  const values: Record<string, unknown> = {};
  for (const spec of SERVE_OPTIONS) {
    const raw =
      sources.flags[spec.name] ?? sources.env[envName(spec)] ?? file.get(spec.path.join('.'));
    if (raw !== undefined) values[spec.name] = parseValue(spec, raw);
  }
  const get = <T>(name: string, fallback: T): T => (values[name] as T | undefined) ?? fallback;

  const dataDir = get('dataDir', './data');
  const memcached = get<string[]>('memcached', []);
  let cache = get<string>('cache', memcached.length > 0 ? 'memcached' : 'memory');
  if (cache === 'memcached' && memcached.length === 0) {
    throw new CliConfigError(
      `${label(specOf('cache'))} is memcached but ${label(specOf('memcached'))} is empty`,
    );
  }
  if (memcached.length > 0 && cache !== 'memcached') cache = 'memcached';
  // Short, unlike libmemcached's: writes fail closed while the server is
  // marked dead (issue 13), so this is the write outage after every blip.
  const memcachedRetrySeconds = get('memcachedRetrySeconds', 2);
  const port = get('port', 8000);
  if (port > 65535) {
    throw new CliConfigError(
      `invalid ${label(specOf('port'))}: expected an integer ≥ 1 and ≤ 65535, got ${port}`,
    );
  }
  const database = get('database', `sqlite:${join(dataDir, 'syncstorage.db')}`);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(database)?.[1]?.toLowerCase();
  if (scheme === undefined || !DATABASE_SCHEMES.includes(scheme)) {
    throw new CliConfigError(
      `invalid ${label(specOf('database'))}: expected sqlite:<path>, sqlite::memory: or postgres://…, got ${JSON.stringify(redactUrl(database))}`,
    );
  }
  const host = get('host', '127.0.0.1');
  if (!isHost(host)) {
    throw new CliConfigError(
      `invalid ${label(specOf('host'))}: expected an IP address or a host name, got ${JSON.stringify(host)}`,
    );
  }

  const limits: Partial<Limits> = {};
  for (const key of [
    'maxRequestBytes',
    'maxPostRecords',
    'maxPostBytes',
    'maxTotalRecords',
    'maxTotalBytes',
    'maxRecordPayloadBytes',
  ] as const) {
    if (values[key] !== undefined) limits[key] = values[key] as number;
  }
  const enableQuota = get('enableQuota', false);
  const quotaLimit = values.maxQuotaLimit as number | undefined;
  if (enableQuota && quotaLimit === undefined) {
    throw new CliConfigError(
      `${label(specOf('enableQuota'))} needs ${label(specOf('maxQuotaLimit'))}`,
    );
  }

  const adminListenRaw = get<string>('adminListen', '127.0.0.1:8001');
  let adminListen: { host: string; port: number } | null = null;
  if (adminListenRaw !== 'off') {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(adminListenRaw);
    const adminPort = Number(match?.[2]);
    if (!match || adminPort < 1 || adminPort > 65535) {
      throw new CliConfigError(
        `invalid ${label(specOf('adminListen'))}: expected host:port or off, got ${JSON.stringify(adminListenRaw)}`,
      );
    }
    adminListen = { host: match[1]!.replace(/^\[|\]$/g, ''), port: adminPort };
  }
  const adminToken = get<string | null>('adminToken', null);
  if (adminToken !== null && adminToken.length < 16) {
    throw new CliConfigError(
      `invalid ${label(specOf('adminToken'))}: expected 16 characters or more`,
    );
  }

  return Object.freeze({
    adminListen,
    adminToken,
    purgeIntervalSeconds: get('purgeIntervalSeconds', 3600),
    host,
    port,
    masterSecret: get<string | null>('masterSecret', null),
    database,
    dataDir,
    limits: Object.freeze(limits),
    quotaBytes: enableQuota ? (quotaLimit ?? null) : null,
    cache: cache as CacheMode,
    memcached: Object.freeze(memcached) as string[],
    cachedCollections: get('cachedCollections', ['meta', 'clients']),
    // Cache-only data lives as long as the cache does: in memcached it outlives
    // a restart of this process, in the in-process cache it would not, so the
    // embedded default keeps tabs in the database.
    cacheOnlyCollections: get('cacheOnlyCollections', cache === 'memcached' ? ['tabs'] : []),
    memcachedRetrySeconds,
    publicUrl: get<string | null>('publicUrl', null),
    trustProxy: get('trustProxy', false),
    skewSeconds: get('hawkSkewSeconds', 60),
    retryAfterSeconds: get('retryAfterSeconds', 10),
    logLevel: get('logLevel', 'info'),
    tokenserver: tokenserverConfig(
      values,
      get('database', `sqlite:${join(dataDir, 'syncstorage.db')}`),
    ),
  });
}

function tokenserverConfig(
  values: Record<string, unknown>,
  storageDatabase: string,
): Readonly<TokenserverCliConfig> {
  const get = <T>(name: string): T | undefined => values[name] as T | undefined;
  const jwks = [get<object>('fxaOauthPrimaryJwk'), get<object>('fxaOauthSecondaryJwk')].filter(
    (jwk): jwk is object => jwk !== undefined,
  );
  const timeout = get<number>('fxaOauthRequestTimeout');
  const capacity = get<number>('initNodeCapacity');
  if (capacity !== undefined && capacity < 1) {
    throw new CliConfigError(`invalid ${label(specOf('initNodeCapacity'))}: expected ≥ 1`);
  }
  const options: Omit<TokenserverConfigInput, 'masterSecret'> = {
    oauthServerUrl: get('fxaOauthServerUrl'),
    oauthRequestTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
    jwks: jwks as TokenserverConfigInput['jwks'],
    metricsHashSecret: get('fxaMetricsHashSecret'),
    emailDomain: get('fxaEmailDomain'),
    tokenDurationSeconds: get('tokenDuration'),
    capacityReleaseRate: get('nodeCapacityReleaseRate'),
    allowNewUsers: get('allowNewUsers'),
    allowedUsers: get('allowedUsers'),
    nodeType: get('nodeType'),
  };
  for (const key of Object.keys(options) as Array<keyof typeof options>) {
    if (options[key] === undefined) delete options[key];
  }
  // Checked here, once, so a bad JWK or FxA URL stops every command before
  // any database opens; the token server resolves them again with the secret.
  try {
    resolveTokenserverConfig({ ...options, masterSecret: 'only validating' });
  } catch (error) {
    throw error instanceof ConfigError ? inOptionNames(error) : error;
  }
  return Object.freeze({
    enabled: get<boolean>('tokenserverEnabled') ?? true,
    database: get<string>('tokenserverDatabase') ?? storageDatabase,
    initNodeUrl: get<string>('initNodeUrl') ?? null,
    initNodeCapacity: capacity ?? 100_000,
    initNodeCapacitySet: capacity !== undefined,
    options: Object.freeze(options),
  });
}

/** An IP address (v4 or v6) or a host name of RFC 1123 labels. */
function isHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  return (
    host.length <= 253 &&
    host.split('.').every((part) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(part))
  );
}

/** URL schemes of --database (mysql: once its driver exists; openSqlDriver says so until then). */
const DATABASE_SCHEMES: readonly string[] = [
  'sqlite',
  'postgres',
  'postgresql',
  'mysql',
  'mariadb',
];

/** Variables that configure the process without being an option of the table. */
const OTHER_VARIABLES: ReadonlySet<string> = new Set(['SYNC_CONFIG']);

/**
 * The `SYNC_…` variables set in `env` that no option reads: a typo
 * (`SYNC_PROT=9000`) must not pass silently. `serve` warns about them.
 */
export function unknownVariables(env: Record<string, string | undefined>): string[] {
  const known = new Set(SERVE_OPTIONS.map(envName));
  return Object.keys(env)
    .filter((name) => name.startsWith('SYNC_') && !known.has(name) && !OTHER_VARIABLES.has(name))
    .sort();
}

/**
 * The user's name for an option the server layer or the token server names
 * internally (`ConfigError.option`: "limits.maxPostRecords", "publicUrl",
 * "tokenserver.fxa_oauth_primary_jwk"…), so a message never shows an internal name.
 */
export function optionLabel(internalName: string): string | undefined {
  const name =
    internalName === 'skewSeconds'
      ? 'hawkSkewSeconds'
      : internalName === 'quotaBytes'
        ? 'maxQuotaLimit'
        : internalName.replace(/^limits\./, '');
  const spec = SERVE_OPTIONS.find((s) => s.name === name || s.path.join('.') === internalName);
  return spec && label(spec);
}

/** A `ConfigError` of the server layer or the token server as the user's `CliConfigError`. */
export function inOptionNames(error: ConfigError): CliConfigError {
  const name = optionLabel(error.option);
  return new CliConfigError(
    name ? error.message.replace(`option ${error.option}`, name) : error.message,
  );
}

function specOf(name: string): OptionSpec {
  const spec = SERVE_OPTIONS.find((s) => s.name === name);
  if (!spec) throw new Error(`no option ${name}`);
  return spec;
}
