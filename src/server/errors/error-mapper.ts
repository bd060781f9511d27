/**
 * Typed errors → registry entries. The only place storage errors meet HTTP
 * (DESIGN.md: errors are mapped to statuses and Weave codes only in server/).
 * Storage errors are recognised by their stable `code`, not `instanceof`, so
 * a second copy of the storage module (a bundled backend) maps the same.
 */
import type { StorageError } from '../../storage/errors.js';
import { HttpError, type ErrorName } from './weave-errors.js';

/** `StorageError.code` → registry entry. */
const STORAGE_CODES: Record<string, ErrorName> = {
  CONFLICT: 'CONFLICT',
  UNAVAILABLE: 'UNAVAILABLE',
  COLLECTION_NOT_FOUND: 'NOT_FOUND',
  ITEM_NOT_FOUND: 'NOT_FOUND',
  INVALID_OFFSET: 'INVALID_OFFSET',
  INVALID_BATCH: 'INVALID_BATCH',
  INVALID_INPUT: 'BAD_REQUEST',
};

/** Fastify's own error codes we answer on purpose. */
const FASTIFY_CODES: Record<string, ErrorName> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
};

/** Whether `error` is a storage error with this code (e.g. 'COLLECTION_NOT_FOUND'). */
export function isStorageError(error: unknown, code: StorageError['code']): boolean {
  return (
    error instanceof Error &&
    (error as Partial<StorageError>).code === code &&
    code in STORAGE_CODES
  );
}

export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const options = { cause: error };
  if (typeof error === 'object' && error !== null) {
    const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
    if (typeof code === 'string' && error instanceof Error) {
      const name = STORAGE_CODES[code] ?? FASTIFY_CODES[code];
      if (name) return new HttpError(name, undefined, options);
    }
    // Any other client error Fastify raises (bad header, aborted body …) is
    // still the client's fault: never a 500 for bad input.
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return new HttpError('BAD_REQUEST', undefined, options);
    }
  }
  return new HttpError('INTERNAL', undefined, options);
}
