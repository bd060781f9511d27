/**
 * A long-running command's start-up (serve, tokenserver): each step that
 * opens something (a database pool, memcached clients, a listener)
 * registers how to close it; when a later step fails, everything opened is
 * closed, last first, before the error goes on to its one line. Left open,
 * a PostgreSQL pool or its claim's session keeps the process from exiting.
 */

/** Registers how to close what a step opened. */
export type OnFailure = (close: () => Promise<unknown>) => void;

export async function startUp<T>(steps: (opened: OnFailure) => Promise<T>): Promise<T> {
  const closers: Array<() => Promise<unknown>> = [];
  try {
    return await steps((close) => closers.push(close));
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}
