/** The token server (`GET /1.0/sync/1.5`): FxA OAuth verification, users and nodes, node assignment. */
export {
  createTokenserver,
  type CreateTokenserverOptions,
  type Tokenserver,
} from './tokenserver.js';
export { resolveTokenserverConfig, type TokenserverConfig } from './tokenserver-config.js';
export { TokenserverStore, type NodeRecord, type UserRecord } from './tokenserver-store.js';
export { FxaVerifier, OLDSYNC_SCOPE, type TokenVerifier } from './fxa-verifier.js';
export { TokenserverError, tokenserverErrors } from './tokenserver-errors.js';
