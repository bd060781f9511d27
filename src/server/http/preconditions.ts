/**
 * X-If-Modified-Since / X-If-Unmodified-Since (API.md "Headers"). Both at
 * once, or a value that is not a timestamp, is 400. Writes check
 * X-If-Unmodified-Since inside the write lock, so no write can slip in
 * between the check and our own.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { fromWire, toWire } from '../../storage/timestamps.js';
import { HttpError } from '../errors/weave-errors.js';

export interface Preconditions {
  ifModifiedSince?: number;
  ifUnmodifiedSince?: number;
}

function header(headers: IncomingHttpHeaders, name: string): number | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' ? fromWire(value.trim()) : undefined;
  if (ms === undefined) throw new HttpError('BAD_REQUEST', `invalid ${name}`);
  return ms;
}

export function parsePreconditions(headers: IncomingHttpHeaders): Preconditions {
  const ifModifiedSince = header(headers, 'x-if-modified-since');
  const ifUnmodifiedSince = header(headers, 'x-if-unmodified-since');
  if (ifModifiedSince !== undefined && ifUnmodifiedSince !== undefined) {
    throw new HttpError('BAD_REQUEST', 'both X-If-Modified-Since and X-If-Unmodified-Since');
  }
  return { ifModifiedSince, ifUnmodifiedSince };
}

/**
 * The 412 a client can retry from: it carries X-Last-Modified with the
 * resource's current timestamp, as syncstorage-rs answers (its transaction
 * wrapper sets the header on both 304 and 412).
 */
function preconditionFailed(resourceMs: number): HttpError {
  return new HttpError('PRECONDITION_FAILED', undefined, {
    headers: { 'X-Last-Modified': toWire(resourceMs) },
  });
}

/** 'not-modified' (→ 304) when a read's resource is not newer than X-If-Modified-Since. */
export function checkRead(pre: Preconditions, resourceMs: number): 'ok' | 'not-modified' {
  if (pre.ifUnmodifiedSince !== undefined && resourceMs > pre.ifUnmodifiedSince) {
    throw preconditionFailed(resourceMs);
  }
  if (pre.ifModifiedSince !== undefined && resourceMs <= pre.ifModifiedSince) return 'not-modified';
  return 'ok';
}

/** 412 when the resource changed after X-If-Unmodified-Since. */
export function checkWrite(pre: Preconditions, resourceMs: number): void {
  if (pre.ifUnmodifiedSince !== undefined && resourceMs > pre.ifUnmodifiedSince) {
    throw preconditionFailed(resourceMs);
  }
}
