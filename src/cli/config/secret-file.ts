/**
 * A secret generated once into the data folder and reused on every start
 * (the master secret, the admin token): 32 random bytes as hex, mode 0600,
 * never overwritten, and safe when two processes start at once. A data
 * folder where it cannot be read or written is a StartupError naming the
 * file and --data-dir.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { causeMessage, DATA_DIR_OPTION, StartupError } from '../startup-error.js';

function unusable(action: string, path: string, error: unknown): StartupError {
  return new StartupError(`cannot ${action} ${path}: ${causeMessage(error)}`, {
    option: DATA_DIR_OPTION,
    cause: error,
  });
}

export interface StoredSecret {
  secret: string;
  /** Where it is kept. */
  path: string;
  /** True when this call generated it (print how to use it). */
  created: boolean;
}

/** The stored secret, or undefined when the file does not exist (or is empty). */
export function loadSecretFile(dataDir: string, name: string): StoredSecret | undefined {
  const path = join(dataDir, name);
  try {
    const secret = readFileSync(path, 'utf8').trim();
    if (secret !== '') return { secret, path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable('read', path, error);
  }
  return undefined;
}

export function loadOrCreateSecretFile(dataDir: string, name: string): StoredSecret {
  const path = join(dataDir, name);
  const stored = loadSecretFile(dataDir, name);
  if (stored) return stored;
  const secret = randomBytes(32).toString('hex');
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // 'wx': never overwrite a secret another process wrote in the meantime.
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return loadOrCreateSecretFile(dataDir, name);
    }
    throw unusable('create', path, error);
  }
  return { secret, path, created: true };
}
