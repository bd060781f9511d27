/** The SQL backend of `SyncStorage`: SQLite (embedded default) and PostgreSQL. */
export { openSqlStorage, type OpenSqlStorageOptions } from './open-sql-storage.js';
export { sqlitePathOf } from '../../sql/open-sql-driver.js';
export { SqlStorage, BATCH_LIFETIME_SECONDS, type SqlStorageOptions } from './sql-storage.js';
export { SqliteDriver, type SqliteDriverOptions } from '../../sql/sqlite-driver.js';
export { STANDARD_COLLECTIONS, FIRST_CUSTOM_COLLECTION_ID } from './standard-collections.js';
export { MAX_TTL } from './sql-schema.js';
export type { SqlDriver, SqlDialect, SqlExecutor, SqlLease } from '../../sql/sql-types.js';
