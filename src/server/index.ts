/** Public surface of the HTTP layer: the app factory, its options, logger, and the auth primitives. */
export { buildApp, type BuildAppOptions } from './app.js';
export {
  ConfigError,
  DEFAULT_LIMITS,
  limitsToWire,
  resolveServerConfig,
  type Limits,
  type ServerConfig,
  type ServerConfigInput,
} from './config/server-config.js';
export { createLogger, REDACTED_PATHS, type LoggerOptions } from './logging/logger.js';
export {
  ERRORS,
  HttpError,
  WeaveCode,
  type ErrorName,
  type ErrorSpec,
} from './errors/weave-errors.js';
export {
  deriveHawkKey,
  InvalidTokenError,
  mintToken,
  signingKey,
  verifyToken,
  type MintedToken,
  type MintOptions,
  type TokenPayload,
} from './auth/tokenlib.js';
export { buildHawkHeader, computeMac, parseHawkHeader, type HawkRequest } from './auth/hawk.js';
