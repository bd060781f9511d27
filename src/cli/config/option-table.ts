/**
 * Every `serve` option once: its flag, its environment variable and its key
 * in a `--config` JSON file. Names follow syncstorage-rs where it has one
 * (`SYNC_HOST`, `SYNC_SYNCSTORAGE__DATABASE_URL`,
 * `SYNC_SYNCSTORAGE__LIMITS__MAX_POST_RECORDS`, …) so a self-hoster can switch
 * servers without rewriting their setup: the variable is `SYNC_` + the file
 * path joined with `__`, upper-cased.
 */

export type OptionKind = 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'json';

export interface OptionSpec {
  /** Key in the resolved configuration (and commander's attribute name). */
  readonly name: string;
  /** Path in the JSON file; the env variable is derived from it. */
  readonly path: readonly string[];
  readonly flag: string;
  readonly kind: OptionKind;
  readonly description: string;
  /** A boolean that defaults to true: its flag takes a value (`--allow-new-users false`). */
  readonly takesValue?: boolean;
  /** Integers: the smallest value accepted (default 0). One message for 0 and for -5. */
  readonly min?: number;
  /** Strings: the values accepted. */
  readonly choices?: readonly string[];
}

/** pino's levels, as --log-level takes them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function envName(spec: OptionSpec): string {
  return `SYNC_${spec.path.join('__').toUpperCase()}`;
}

function tokenserver(
  name: string,
  key: string,
  flag: string,
  kind: OptionKind,
  description: string,
  takesValue?: boolean,
): OptionSpec {
  return { name, path: ['tokenserver', key], flag, kind, description, takesValue };
}

/** The token server's options, under syncstorage-rs's `tokenserver.*` names. */
export const TOKENSERVER_OPTIONS: readonly OptionSpec[] = [
  tokenserver(
    'tokenserverEnabled',
    'enabled',
    '--tokenserver-enabled',
    'boolean',
    'serve the token server (GET /1.0/sync/1.5) beside storage (default true)',
    true,
  ),
  tokenserver(
    'tokenserverDatabase',
    'database_url',
    '--tokenserver-database',
    'string',
    'token server database: sqlite:<path> | postgres://… (default: the storage database)',
  ),
  tokenserver(
    'fxaOauthServerUrl',
    'fxa_oauth_server_url',
    '--fxa-oauth-server-url',
    'string',
    'FxA OAuth server; /v1/jwks and /v1/verify are appended (default https://oauth.accounts.firefox.com)',
  ),
  tokenserver(
    'fxaOauthRequestTimeout',
    'fxa_oauth_request_timeout',
    '--fxa-oauth-request-timeout',
    'integer',
    'seconds a request to FxA may take (default 10)',
  ),
  tokenserver(
    'fxaOauthPrimaryJwk',
    'fxa_oauth_primary_jwk',
    '--fxa-oauth-primary-jwk',
    'json',
    "FxA's token-signing public key as a JWK (JSON); default: fetched from /v1/jwks",
  ),
  tokenserver(
    'fxaOauthSecondaryJwk',
    'fxa_oauth_secondary_jwk',
    '--fxa-oauth-secondary-jwk',
    'json',
    "a second JWK, for FxA's key rotation",
  ),
  tokenserver(
    'fxaMetricsHashSecret',
    'fxa_metrics_hash_secret',
    '--fxa-metrics-hash-secret',
    'string',
    'key of hashed_fxa_uid (default: derived from the master secret)',
  ),
  tokenserver(
    'fxaEmailDomain',
    'fxa_email_domain',
    '--fxa-email-domain',
    'string',
    'users are <fxa uid>@<this> in the users table (default api.accounts.firefox.com)',
  ),
  tokenserver(
    'tokenDuration',
    'token_duration',
    '--token-duration',
    'integer',
    'token lifetime in seconds (default 3600)',
  ),
  tokenserver(
    'nodeCapacityReleaseRate',
    'node_capacity_release_rate',
    '--node-capacity-release-rate',
    'number',
    'share of a full node opened per capacity release, 0..1 (default 0.1)',
  ),
  tokenserver(
    'initNodeUrl',
    'init_node_url',
    '--init-node-url',
    'string',
    'storage node registered at start (serve: default --public-url, else http://host:port)',
  ),
  tokenserver(
    'initNodeCapacity',
    'init_node_capacity',
    '--init-node-capacity',
    'integer',
    'capacity of that node (default 100000; when set, also applied to an existing row)',
  ),
  tokenserver(
    'allowNewUsers',
    'allow_new_users',
    '--allow-new-users',
    'boolean',
    'false: only users the token server already knows get tokens (default true)',
    true,
  ),
  tokenserver(
    'allowedUsers',
    'allowed_users',
    '--allowed-users',
    'list',
    'FxA uids (or <uid>@<email domain>) that may sync; default: everyone',
  ),
  tokenserver(
    'nodeType',
    'node_type',
    '--node-type',
    'string',
    'node_type in token answers (default: the storage backend, sqlite|postgres|mysql)',
  ),
];

function limit(name: string, key: string, description: string): OptionSpec {
  return {
    name,
    path: ['syncstorage', 'limits', key],
    flag: `--${key.replace(/_/g, '-')}`,
    kind: 'integer',
    description,
    min: 1,
  };
}

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'host',
    path: ['host'],
    flag: '--host',
    kind: 'string',
    description: 'address to listen on (default 127.0.0.1)',
  },
  {
    name: 'port',
    path: ['port'],
    flag: '--port',
    kind: 'integer',
    description: 'port to listen on (default 8000)',
    min: 1,
  },
  {
    name: 'masterSecret',
    path: ['master_secret'],
    flag: '--master-secret',
    kind: 'string',
    description:
      'secret shared with the token server (default: generated once in <data-dir>/master-secret)',
  },
  {
    name: 'database',
    path: ['syncstorage', 'database_url'],
    flag: '--database',
    kind: 'string',
    description:
      'sqlite:<path> | sqlite::memory: | postgres://… (default sqlite:<data-dir>/syncstorage.db)',
  },
  {
    name: 'dataDir',
    path: ['data_dir'],
    flag: '--data-dir',
    kind: 'string',
    description: 'folder for the SQLite file and the master secret (default ./data)',
  },
  limit('maxRequestBytes', 'max_request_bytes', 'largest request body in bytes (default 2625536)'),
  limit('maxPostRecords', 'max_post_records', 'records per POST (default 100)'),
  limit('maxPostBytes', 'max_post_bytes', 'payload bytes per POST (default 2621440)'),
  limit('maxTotalRecords', 'max_total_records', 'records per batch (default 10000)'),
  limit('maxTotalBytes', 'max_total_bytes', 'payload bytes per batch (default 262144000)'),
  limit(
    'maxRecordPayloadBytes',
    'max_record_payload_bytes',
    'payload bytes of one record (default 2621440)',
  ),
  limit(
    'maxQuotaLimit',
    'max_quota_limit',
    'per-user quota in bytes, used when quotas are enabled',
  ),
  {
    name: 'enableQuota',
    path: ['syncstorage', 'enable_quota'],
    flag: '--enable-quota',
    kind: 'boolean',
    description: 'enforce max_quota_limit per user (default off)',
  },
  {
    name: 'memcached',
    path: ['memcached_servers'],
    flag: '--memcached',
    kind: 'list',
    description: 'memcached servers host:port[,host:port…] (default: the in-process cache)',
  },
  {
    name: 'cache',
    path: ['cache'],
    flag: '--cache',
    kind: 'string',
    description: '"memory" (in-process, default), "memcached" (implied by --memcached) or "none"',
    choices: ['memory', 'memcached', 'none'],
  },
  {
    name: 'cachedCollections',
    path: ['cached_collections'],
    flag: '--cached-collections',
    kind: 'list',
    description: 'collections cached write-through when a cache is used (default meta,clients)',
  },
  {
    name: 'cacheOnlyCollections',
    path: ['cache_only_collections'],
    flag: '--cache-only-collections',
    kind: 'list',
    description:
      'collections kept only in the cache (default tabs with --memcached; none with the in-process cache, whose data a restart loses)',
  },
  {
    name: 'memcachedRetrySeconds',
    path: ['memcached_retry_seconds'],
    flag: '--memcached-retry-seconds',
    kind: 'integer',
    description:
      'seconds a failed memcached server is left alone before it is retried; writes are refused (503) meanwhile (default 2)',
    min: 1,
  },
  {
    name: 'publicUrl',
    path: ['public_url'],
    flag: '--public-url',
    kind: 'string',
    description:
      "this node's URL as clients reach it, with its path behind a proxy (https://example.com/sync); when set, tokens must name it as their node",
  },
  {
    name: 'trustProxy',
    path: ['trust_proxy'],
    flag: '--trust-proxy',
    kind: 'boolean',
    description: 'honour X-Forwarded-Host/-Proto/-Port (only behind your own proxy)',
  },
  {
    name: 'hawkSkewSeconds',
    path: ['hawk_skew_seconds'],
    flag: '--hawk-skew-seconds',
    kind: 'integer',
    description: 'accepted Hawk clock skew in seconds (default 60)',
  },
  {
    name: 'retryAfterSeconds',
    path: ['retry_after_seconds'],
    flag: '--retry-after-seconds',
    kind: 'integer',
    description: 'Retry-After on 503 (default 10)',
    min: 1,
  },
  {
    name: 'logLevel',
    path: ['log_level'],
    flag: '--log-level',
    kind: 'string',
    description:
      'pino level: fatal|error|warn|info|debug|trace|silent (default info; debug adds stack traces to start-up errors)',
    choices: LOG_LEVELS,
  },
  ...TOKENSERVER_OPTIONS,
  {
    name: 'adminListen',
    path: ['admin_listen'],
    flag: '--admin-listen',
    kind: 'string',
    description:
      'host:port of the admin listener (metrics, admin page and API; default 127.0.0.1:8001; off to disable)',
  },
  {
    name: 'adminToken',
    path: ['admin_token'],
    flag: '--admin-token',
    kind: 'string',
    description:
      'Bearer token of the admin listener, 16+ characters (default: generated once in <data-dir>/admin-token)',
  },
  {
    name: 'purgeIntervalSeconds',
    path: ['purge_interval_seconds'],
    flag: '--purge-interval-seconds',
    kind: 'integer',
    description:
      'purge expired items every this many seconds in the server (default 3600; 0 never)',
  },
];
