/**
 * Typed errors of the cache store layer. Each has a stable `code` so callers
 * (and the cache toolkit's degraded mode) can branch without string matching.
 */
export abstract class CacheError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server could not be reached, refused, or is marked dead for its retry interval. */
export class CacheUnavailableError extends CacheError {
  readonly code = 'CACHE_UNAVAILABLE';
  constructor(
    message: string,
    readonly server?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Connecting or a request took longer than the configured timeout. */
export class CacheTimeoutError extends CacheError {
  readonly code = 'CACHE_TIMEOUT';
}

/** The serialized value exceeds the item size limit; nothing was sent. */
export class ValueTooLargeError extends CacheError {
  readonly code = 'CACHE_VALUE_TOO_LARGE';
  constructor(
    readonly size: number,
    readonly limit: number,
    /** Overrides the default message (e.g. when the server's own limit refused the value). */
    message?: string,
  ) {
    super(
      message ??
        `value of ${size} bytes exceeds the item size limit of ${limit} bytes (option maxValueSize)`,
    );
  }
}

/** The server answered something this client cannot parse or did not expect. */
export class CacheProtocolError extends CacheError {
  readonly code = 'CACHE_PROTOCOL';
}

/** Bad arguments: a negative TTL, incr of a non-number, an undecodable value. */
export class CacheInputError extends CacheError {
  readonly code = 'CACHE_INPUT';
}

/** The store was closed. */
export class CacheClosedError extends CacheError {
  readonly code = 'CACHE_CLOSED';
}
