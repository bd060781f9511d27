/**
 * What the operator's tools read about users as a whole: who stores how
 * much, from the running totals (`syncstorage_usage`), so listing users or
 * scraping metrics never sums the BSO tables. Implemented by the SQL
 * backend; per-user details and actions go through `SyncStorage`.
 */
import type { UserId } from './sync-storage.js';

export interface UserUsage {
  userId: UserId;
  /** Bytes stored (expired items included until purged). */
  bytes: number;
  /** Items stored (the same). */
  items: number;
  /** Collections holding items. */
  collections: number;
  /** Last write, ms; 0 when unknown. */
  lastModified: number;
  /** The user's own quota in bytes, or null. */
  quotaBytes: number | null;
}

export interface UsageTotals {
  users: number;
  items: number;
  bytes: number;
}

export interface ListUsersOptions {
  /** Only user ids starting with these digits. */
  search?: string;
  /** Only these users (those holding data: the others are left out). */
  userIds?: readonly UserId[];
  /** `bytes`: largest first (the default); `userid`: ascending. */
  order?: 'bytes' | 'userid';
  /** At most this many (default 50, at most 1000). */
  limit?: number;
  /** Skip this many (paging). */
  offset?: number;
}

export interface StorageDirectory {
  /** Users holding data, with their totals. Throws `StorageInputError` on a bad search. */
  listUsers(options?: ListUsersOptions): Promise<UserUsage[]>;
  /** Users, items and bytes over the whole database. */
  usageTotals(): Promise<UsageTotals>;
}
