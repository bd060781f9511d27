/**
 * The server's pino logger: JSON lines, one per request (written by the
 * app's onResponse hook). Secrets never reach a line: the request lines
 * carry only method, route, status, latency and uid, and redaction removes
 * credentials, keys and payloads should any other line carry them.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  '*.authorization',
  'token',
  'key',
  'masterSecret',
  'master_secret',
  'payload',
  'body',
  '*.payload',
  '*.token',
  '*.key',
  '*.masterSecret',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
  /**
   * Buffer stdout writes (4 KiB) instead of one write per line; call
   * `logger.flush()` before exit. Default false. Ignored with `destination`.
   */
  buffered?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'syncstorage' },
    },
    options.destination ??
      (options.buffered ? pino.destination({ dest: 1, sync: false, minLength: 4096 }) : undefined),
  );
}
