/**
 * The embedded default's master secret: generated once, kept in
 * `<dataDir>/master-secret` with mode 0600, reused on every start.
 */
import { loadOrCreateSecretFile, loadSecretFile, type StoredSecret } from './secret-file.js';

export type MasterSecret = StoredSecret;

/** The stored secret, or undefined when `<dataDir>/master-secret` does not exist (or is empty). */
export function loadMasterSecret(dataDir: string): MasterSecret | undefined {
  return loadSecretFile(dataDir, 'master-secret');
}

export function loadOrCreateMasterSecret(dataDir: string): MasterSecret {
  return loadOrCreateSecretFile(dataDir, 'master-secret');
}
