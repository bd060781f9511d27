/**
 * SIGTERM / SIGINT: stop accepting, let requests in flight finish, close
 * what the command opened (in the order given), flush the log, exit. A
 * stuck request must not keep the process forever: exit(1) after 15 s.
 */
import type { Logger } from 'pino';

export function stopOnSignals(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), 15_000).unref();
    void (async () => {
      await close();
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
