/**
 * The one registry of HTTP errors this server answers with: a stable code,
 * the HTTP status and the Weave error code sent as the bare JSON body
 * (API.md "Errors"). Every code is documented in the README ("HTTP errors");
 * a test keeps the two in step.
 */

/** Weave error codes used on the wire (the body of an error response). */
export const WeaveCode = {
  UNKNOWN: 0,
  ILLEGAL_METHOD: 1,
  MALFORMED_JSON: 6,
  INVALID_BSO: 8,
  OVER_QUOTA: 14,
  SIZE_LIMIT_EXCEEDED: 17,
} as const;
export type WeaveCode = (typeof WeaveCode)[keyof typeof WeaveCode];

export interface ErrorSpec {
  readonly status: number;
  readonly weave: WeaveCode;
  /** Whether the reply carries `Retry-After`. */
  readonly retry?: boolean;
  readonly description: string;
}

export const ERRORS = {
  BAD_REQUEST: { status: 400, weave: 1, description: 'a malformed parameter or header' },
  MALFORMED_JSON: { status: 400, weave: 6, description: 'the body is not valid JSON' },
  INVALID_BSO: { status: 400, weave: 8, description: 'the BSO of a PUT is invalid' },
  SIZE_LIMIT_EXCEEDED: {
    status: 400,
    weave: 17,
    description: 'an X-Weave-* size header exceeds a limit',
  },
  INVALID_BATCH: {
    status: 400,
    weave: 1,
    description: 'unknown, expired, closed or foreign batch id',
  },
  INVALID_OFFSET: { status: 400, weave: 1, description: 'an offset token that is not valid' },
  UNAUTHORIZED: { status: 401, weave: 0, description: 'missing, invalid or expired credentials' },
  FORBIDDEN: { status: 403, weave: 0, description: 'the uid in the path is not the token’s' },
  OVER_QUOTA: { status: 403, weave: 14, description: 'the user’s quota is used up' },
  NOT_FOUND: { status: 404, weave: 0, description: 'no such route, collection item or user data' },
  METHOD_NOT_ALLOWED: { status: 405, weave: 1, description: 'the route exists, not the method' },
  NOT_ACCEPTABLE: {
    status: 406,
    weave: 0,
    description: 'the Accept header asks for an unknown type',
  },
  PRECONDITION_FAILED: {
    status: 412,
    weave: 0,
    description: 'X-If-Unmodified-Since is older than the resource',
  },
  PAYLOAD_TOO_LARGE: { status: 413, weave: 17, description: 'the body exceeds max_request_bytes' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    weave: 0,
    description: 'a body type other than JSON or newlines',
  },
  CONFLICT: {
    status: 503,
    weave: 0,
    retry: true,
    description: 'a concurrent write or lock timeout; retry',
  },
  UNAVAILABLE: { status: 503, weave: 0, retry: true, description: 'a backing store is down' },
  INTERNAL: { status: 500, weave: 0, description: 'a bug; logged with its stack' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof ERRORS;

/** An error a route throws to answer with a registry entry. */
export class HttpError extends Error {
  readonly spec: ErrorSpec;
  constructor(
    readonly errorName: ErrorName,
    message?: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message ?? ERRORS[errorName].description, options);
    this.name = 'HttpError';
    this.spec = ERRORS[errorName];
    this.headers = options?.headers ?? {};
  }
  readonly headers: Record<string, string>;
}
