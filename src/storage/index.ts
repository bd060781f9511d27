/** The storage layer: the `SyncStorage` interface, its rules and errors, and the SQL backend. */
export type * from './sync-storage.js';
export type * from './storage-directory.js';
export * from './errors.js';
export * from './bso-rules.js';
export * from './timestamps.js';
export { openSqlStorage, type OpenSqlStorageOptions } from './sql/index.js';
