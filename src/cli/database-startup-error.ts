/**
 * Why the database could not be opened at start, in one line that names the
 * database (password hidden) and the option to change: unreachable host,
 * refused password, missing database, unknown scheme, a SQLite file or
 * folder that cannot be written.
 */
import { causeMessage, errorCodes, StartupError } from './startup-error.js';

export const DATABASE_OPTION = '--database (SYNC_SYNCSTORAGE__DATABASE_URL)';

/** A database URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

function userOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username) || '(none)';
  } catch {
    return '(unknown)';
  }
}

function databaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || '(default)';
  } catch {
    return '(unknown)';
  }
}

/** Translate an error from opening `url` into a StartupError naming the cause. */
export function explainDatabaseFailure(url: string, error: unknown): StartupError {
  const shown = redactUrl(url);
  const codes = new Set(errorCodes(error));
  const has = (...names: string[]) => names.some((name) => codes.has(name));
  const options = { option: DATABASE_OPTION, cause: error };
  // Another process owns the database (src/sql/database-claim.ts): its own line names the way out.
  if (has('DATABASE_CLAIMED')) {
    return new StartupError(`${shown}: ${causeMessage(error)}`, { cause: error });
  }
  if (has('ECONNREFUSED')) {
    return new StartupError(`cannot reach the database at ${shown}: connection refused`, options);
  }
  if (has('ENOTFOUND', 'EAI_AGAIN')) {
    return new StartupError(`cannot reach the database at ${shown}: host not found`, options);
  }
  if (has('ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH') || /timeout/i.test(causeMessage(error))) {
    return new StartupError(
      `cannot reach the database at ${shown}: no answer (timed out)`,
      options,
    );
  }
  // PostgreSQL 28P01 invalid_password, 28000 invalid_authorization; MySQL 1045.
  if (has('28P01', '28000', 'ER_ACCESS_DENIED_ERROR')) {
    return new StartupError(
      `the database at ${shown} refused user ${userOf(url)}: wrong password or no access`,
      options,
    );
  }
  // PostgreSQL 3D000 invalid_catalog_name; MySQL 1049.
  if (has('3D000', 'ER_BAD_DB_ERROR')) {
    return new StartupError(
      `the database "${databaseOf(url)}" does not exist on ${shown}: create it first (createdb, CREATE DATABASE)`,
      options,
    );
  }
  if (has('SQLITE_READONLY') || [...codes].some((code) => code.startsWith('SQLITE_READONLY'))) {
    return new StartupError(`the SQLite file of ${shown} is read-only`, options);
  }
  if (has('SQLITE_CANTOPEN')) {
    return new StartupError(`cannot open the SQLite file of ${shown}`, options);
  }
  if (has('EACCES', 'EPERM', 'EROFS')) {
    return new StartupError(`cannot write where ${shown} lives: ${causeMessage(error)}`, options);
  }
  if (has('INVALID_INPUT')) {
    return new StartupError(`cannot use ${shown}: ${causeMessage(error)}`, options);
  }
  return new StartupError(`cannot open the database at ${shown}: ${causeMessage(error)}`, options);
}
