/**
 * The token server's errors, as syncstorage-rs answers them
 * (`tokenserver-common/src/error.rs`): a JSON body
 * `{"status": …, "errors": [{"location", "name", "description"}]}` with the
 * HTTP status. Firefox's TokenServerClient reads `status` of a 401 as the
 * cause and expects JSON on every response, errors included.
 */

export type ErrorLocation = 'header' | 'url' | 'body' | 'internal';

export interface TokenserverErrorBody {
  status: string;
  errors: Array<{ location: ErrorLocation; name: string; description: string }>;
}

export class TokenserverError extends Error {
  readonly code = 'TOKENSERVER_ERROR';
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    readonly location: ErrorLocation,
    readonly description: string,
    readonly errorName = '',
    /** For the log only (never sent): what exactly was wrong. */
    readonly context = description,
  ) {
    super(`${status}: ${context}`);
    this.name = 'TokenserverError';
  }

  body(): TokenserverErrorBody {
    return {
      status: this.status,
      errors: [{ location: this.location, name: this.errorName, description: this.description }],
    };
  }
}

/** Every error the token server answers with, by the name tests and docs use. */
export const tokenserverErrors = {
  /** No or malformed `Authorization` header (syncstorage-rs: status "error"). */
  unauthorized: (context: string) =>
    new TokenserverError(401, 'error', 'body', 'Unauthorized', '', context),
  /** An `Authorization` scheme other than Bearer. */
  unsupportedScheme: () =>
    new TokenserverError(401, 'error', 'body', 'Unsupported', '', 'Invalid authorization scheme'),
  invalidCredentials: (context = 'Unauthorized') =>
    new TokenserverError(401, 'invalid-credentials', 'body', 'Unauthorized', '', context),
  invalidGeneration: (context = 'Invalid generation') =>
    new TokenserverError(401, 'invalid-generation', 'body', 'Unauthorized', '', context),
  invalidKeysChangedAt: (context = 'Invalid keys_changed_at') =>
    new TokenserverError(401, 'invalid-keysChangedAt', 'body', 'Unauthorized', '', context),
  invalidKeyId: (description: string) =>
    new TokenserverError(401, 'invalid-key-id', 'header', description),
  invalidClientState: (description: string) =>
    new TokenserverError(401, 'invalid-client-state', 'header', description, 'X-Client-State'),
  /** X-Client-State disagrees with the client state in X-KeyID. */
  clientStateMismatch: () =>
    new TokenserverError(
      401,
      'invalid-client-state',
      'body',
      'Unauthorized',
      '',
      'Client state mismatch in X-Client-State header',
    ),
  /** X-Client-State is not `^[a-zA-Z0-9._-]{1,32}$`. */
  badClientStateHeader: () =>
    new TokenserverError(400, 'error', 'header', 'Invalid client state value', 'X-Client-State'),
  newUsersDisabled: () =>
    new TokenserverError(403, 'new-users-disabled', 'body', 'New users are disabled'),
  /** The FxA account is not on the allow-list (`tokenserver.allowed_users`). */
  userNotAllowed: () =>
    new TokenserverError(403, 'user-not-allowed', 'body', 'This account may not use this server'),
  unsupportedApplication: () =>
    new TokenserverError(404, 'error', 'url', 'Unsupported application', 'application'),
  unsupportedVersion: (version: string) =>
    new TokenserverError(404, 'error', 'url', 'Unsupported application version', version),
  methodNotAllowed: () => new TokenserverError(405, 'error', 'url', 'Method not allowed', 'method'),
  /** No node has room (after releasing capacity), as syncstorage-rs's get_best_node. */
  noNode: () => new TokenserverError(503, 'internal-error', 'internal', 'unable to get a node'),
  /** The database or FxA could not be reached. */
  unavailable: (context: string) =>
    new TokenserverError(
      503,
      'internal-error',
      'internal',
      'Resource is not available',
      '',
      context,
    ),
  internal: (context: string) =>
    new TokenserverError(500, 'internal-error', 'internal', 'Server error', '', context),
} as const;
