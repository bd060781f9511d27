/**
 * The embedded default's master secret: generated once, kept in
 * `<dataDir>/master-secret` with mode 0600, reused on every start.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MasterSecret {
  secret: string;
  /** Where it is kept. */
  path: string;
  /** True when this call generated it (print how to use it). */
  created: boolean;
}

/** The stored secret, or undefined when `<dataDir>/master-secret` does not exist (or is empty). */
export function loadMasterSecret(dataDir: string): MasterSecret | undefined {
  const path = join(dataDir, 'master-secret');
  try {
    const secret = readFileSync(path, 'utf8').trim();
    if (secret !== '') return { secret, path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return undefined;
}

export function loadOrCreateMasterSecret(dataDir: string): MasterSecret {
  const path = join(dataDir, 'master-secret');
  const stored = loadMasterSecret(dataDir);
  if (stored) return stored;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  // 'wx': never overwrite a secret another process wrote in the meantime.
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return loadOrCreateMasterSecret(dataDir);
    throw error;
  }
  chmodSync(path, 0o600);
  return { secret, path, created: true };
}
