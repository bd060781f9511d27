/**
 * The one logger contract of everything that talks to a cache through this
 * package (the toolkit and the server's storage layer): bentocache's
 * `Logger` shape — a structured object and a message per level, and
 * `child(bindings)` for a component's own fields. A pino logger fits as is.
 */
export interface CacheLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
  child(bindings: Record<string, unknown>): CacheLogger;
}

const ignore = (): void => undefined;

/** Says nothing (the default). */
export const silentLogger: CacheLogger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => silentLogger,
});
