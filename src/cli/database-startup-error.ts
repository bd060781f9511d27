/**
 * Why the database could not be opened at start, in one line that names the
 * database (password hidden) and the option to change: unreachable host,
 * refused password, missing database, unknown scheme, a SQLite file or
 * folder that cannot be written.
 */
import { causeMessage, errorCodes, StartupError } from './startup-error.js';

export const DATABASE_OPTION = '--database (SYNC_SYNCSTORAGE__DATABASE_URL)';
export const TOKENSERVER_DATABASE_OPTION =
  '--tokenserver-database (SYNC_TOKENSERVER__DATABASE_URL)';

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

/**
 * Translate an error from opening `url` into a StartupError naming the cause
 * and `option`, the option that gave the URL. A StartupError passes through.
 */
export function explainDatabaseFailure(
  url: string,
  error: unknown,
  option: string = DATABASE_OPTION,
): StartupError {
  if (error instanceof StartupError) return error;
  const shown = redactUrl(url);
  const codes = new Set(errorCodes(error));
  const has = (...names: string[]) => names.some((name) => codes.has(name));
  const options = { option, cause: error };
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
  // PostgreSQL 28P01 invalid_password (it says no more, whether the role exists or not).
  if (has('28P01')) {
    return new StartupError(
      `the database at ${shown} refused the password of user ${userOf(url)}`,
      options,
    );
  }
  // The server asks for a password (scram-sha-256, md5) and the URL has none: pg
  // fails on the client side ("SASL: … client password must be a string").
  if (/client password must be a string/.test(causeMessage(error))) {
    return new StartupError(
      `the database at ${shown} asks user ${userOf(url)} for a password and the URL gives none (postgres://user:password@host/database)`,
      options,
    );
  }
  // PostgreSQL 28000 invalid_authorization: a role that may not log in, no
  // pg_hba.conf line; its own message says which.
  if (has('28000')) {
    return new StartupError(
      `the database at ${shown} refused user ${userOf(url)}: ${causeMessage(error)}`,
      options,
    );
  }
  // MySQL/MariaDB 1045: the same code for a wrong password, a missing one, an unknown user.
  if (has('ER_ACCESS_DENIED_ERROR')) {
    return new StartupError(
      `the database at ${shown} refused user ${userOf(url)}: wrong password, or the user may not connect from this host`,
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
