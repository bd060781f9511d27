/**
 * The admin listener's token: generated once into `<dataDir>/admin-token`
 * (mode 0600) as the master secret is, unless given by `--admin-token`.
 */
import { loadOrCreateSecretFile, type StoredSecret } from './secret-file.js';

export function loadOrCreateAdminToken(dataDir: string): StoredSecret {
  return loadOrCreateSecretFile(dataDir, 'admin-token');
}
