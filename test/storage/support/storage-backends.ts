/**
 * The backend matrix (sqlite, postgres, mariadb), narrowed by
 * `STORAGE_BACKENDS` (comma-separated, e.g. `STORAGE_BACKENDS=sqlite`); unset
 * runs them all.
 *
 *   STORAGE_BACKENDS=sqlite node scripts/run-tests.mjs test/storage
 */
export type StorageBackend = 'sqlite' | 'postgres' | 'mariadb';

export function backendEnabled(backend: StorageBackend): boolean {
  const list = process.env.STORAGE_BACKENDS;
  if (!list) return true;
  return list
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .includes(backend);
}

/** `describe` options that skip a backend left out of the matrix. */
export function skipUnless(backend: StorageBackend): { skip?: string } {
  return backendEnabled(backend) ? {} : { skip: `STORAGE_BACKENDS excludes ${backend}` };
}
