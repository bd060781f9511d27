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
   * Buffer stdout writes (4 KiB) instead of one write per line, flushed at
   * least every `flushIntervalMs` so an idle server's lines (a 500's stack
   * too) appear within a second rather than when the buffer fills; call
   * `logger.flush()` before exit. Default false. Ignored with `destination`.
   */
  buffered?: boolean;
  /** With `buffered`: the longest a line waits in the buffer. Default 1000 ms. */
  flushIntervalMs?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  let destination = options.destination;
  if (!destination && options.buffered) {
    const buffered = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    // The buffer keeps writes cheap under load; the timer keeps lines live
    // when idle. unref: it never keeps the process alive on its own.
    const timer = setInterval(() => buffered.flush(), options.flushIntervalMs ?? 1000);
    timer.unref();
    buffered.on('close', () => clearInterval(timer));
    destination = buffered;
  }
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'syncstorage' },
    },
    destination,
  );
}
