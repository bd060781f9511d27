/** The load generator as a library: simulated Firefox clients, figures, and the write ledger. */
export { runLoad, type LoadRun, type RunHooks } from './load-runner.js';
export {
  LoadOptionsError,
  resolveLoadOptions,
  type LoadOptions,
  type ResolvedLoadOptions,
  type TokenserverMode,
} from './load-options.js';
export {
  ListedAccount,
  loadListedAccounts,
  loadSigningKey,
  publicJwkOf,
  SignedAccount,
  simulatedFxaUid,
  type FxaAccount,
} from './fxa-accounts.js';
export {
  MintedCredentials,
  TokenserverCredentials,
  type CredentialSource,
  type SessionCredentials,
  type TokenRequest,
} from './session-credentials.js';
export { formatSummary, summarize, type KindLatency, type LoadSummary } from './load-summary.js';
export { endProgress, progressReporter, type ProgressOutput } from './progress-line.js';
export {
  RequestStats,
  type FailureEvent,
  type FailureKey,
  type SecondBucket,
} from './request-stats.js';
export { REQUEST_KINDS, type RequestKind } from './request-kinds.js';
export { WriteLedger, type LedgerItem, type UserLedger } from './write-ledger.js';
export { checkCollection, emptyVerdict, type LedgerVerdict } from './ledger-check.js';
export { verifyLedger, VerifyError, type VerifyOptions } from './ledger-verifier.js';
export { HttpTransport, type HttpResult } from './http-transport.js';
export { SyncSession } from './sync-session.js';
export { FirefoxScenario, SimulatedUser, DEFAULT_COLLECTIONS } from './firefox-scenario.js';
export { RandomSource } from './random-source.js';
export { RecordFactory } from './record-factory.js';
export { payloadHash } from './payload-hash.js';
