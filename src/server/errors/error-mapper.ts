/**
 * Typed errors → registry entries. The only place storage errors meet HTTP
 * (DESIGN.md: errors are mapped to statuses and Weave codes only in server/).
 */
import {
  CollectionNotFoundError,
  ConflictError,
  InvalidBatchError,
  InvalidOffsetError,
  ItemNotFoundError,
  StorageInputError,
  StorageUnavailableError,
} from '../../storage/errors.js';
import { HttpError, type ErrorName } from './weave-errors.js';

/** Fastify's own error codes we answer on purpose. */
const FASTIFY_CODES: Record<string, ErrorName> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
};

export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const options = { cause: error };
  if (error instanceof ConflictError) return new HttpError('CONFLICT', undefined, options);
  if (error instanceof StorageUnavailableError) {
    return new HttpError('UNAVAILABLE', undefined, options);
  }
  if (error instanceof CollectionNotFoundError || error instanceof ItemNotFoundError) {
    return new HttpError('NOT_FOUND', undefined, options);
  }
  if (error instanceof InvalidOffsetError)
    return new HttpError('INVALID_OFFSET', undefined, options);
  if (error instanceof InvalidBatchError) return new HttpError('INVALID_BATCH', undefined, options);
  if (error instanceof StorageInputError) return new HttpError('BAD_REQUEST', undefined, options);
  if (typeof error === 'object' && error !== null) {
    const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
    const name = typeof code === 'string' ? FASTIFY_CODES[code] : undefined;
    if (name) return new HttpError(name, undefined, options);
    // Any other client error Fastify raises (bad header, aborted body …) is
    // still the client's fault: never a 500 for bad input.
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return new HttpError('BAD_REQUEST', undefined, options);
    }
  }
  return new HttpError('INTERNAL', undefined, options);
}
