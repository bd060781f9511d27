/**
 * Typed errors of the storage layer. They are mapped to HTTP statuses and
 * Weave error codes only in `server/`.
 */
export abstract class StorageError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A concurrent write won, or a lock could not be had in time: the client should retry. */
export class ConflictError extends StorageError {
  readonly code = 'CONFLICT';
  constructor(message = 'conflicting write; retry', options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class CollectionNotFoundError extends StorageError {
  readonly code = 'COLLECTION_NOT_FOUND';
  constructor(readonly collection?: string) {
    super(collection ? `collection not found: ${collection}` : 'collection not found');
  }
}

export class ItemNotFoundError extends StorageError {
  readonly code = 'ITEM_NOT_FOUND';
  constructor(readonly item?: string) {
    super(item ? `item not found: ${item}` : 'item not found');
  }
}

/** A paging token that is malformed, forged, or does not fit the query. */
export class InvalidOffsetError extends StorageError {
  readonly code = 'INVALID_OFFSET';
  constructor(readonly offset?: string) {
    super(`invalid offset token${offset === undefined ? '' : `: ${JSON.stringify(offset)}`}`);
  }
}

/** Unknown, expired, closed, or another user's / collection's batch. */
export class InvalidBatchError extends StorageError {
  readonly code = 'INVALID_BATCH';
  constructor(readonly batch?: string) {
    super(`invalid batch${batch === undefined ? '' : `: ${JSON.stringify(batch)}`}`);
  }
}

/** Input that the storage layer refuses on its own (bad id, collection name, field). */
export class StorageInputError extends StorageError {
  readonly code = 'INVALID_INPUT';
}

/**
 * A write was attempted inside a read lock (a read→write escalation): a
 * programming error in the caller, not a condition to retry.
 */
export class LockEscalationError extends StorageError {
  readonly code = 'LOCK_ESCALATION';
  constructor(message = 'cannot take a write lock inside a read lock') {
    super(message);
  }
}

/** A dependency (database, cache for cache-only collections) is down. */
export class StorageUnavailableError extends StorageError {
  readonly code = 'UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
