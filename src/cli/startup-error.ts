/**
 * Start-up failures as one line an operator can act on: what went wrong and
 * which option to change. `main.ts` prints `syncstorage: <message>` on
 * stderr and exits non-zero; the stack only with `--log-level debug`.
 *
 * Any command that can fail to start throws `StartupError` (or lets
 * `explainStartupFailure` translate a system error): a file lock held by
 * another process, a database that refuses, a port in use…
 *
 *   throw new StartupError(`the SQLite file ${path} is in use by process ${pid}`, {
 *     option: '--database (SYNC_SYNCSTORAGE__DATABASE_URL)',
 *   });
 */

/** The data folder option, as start-up lines name it. */
export const DATA_DIR_OPTION = '--data-dir (SYNC_DATA_DIR)';

export class StartupError extends Error {
  readonly code = 'STARTUP_FAILED';
  /** The option to change, as the user writes it (flag and variable), when one applies. */
  readonly option: string | undefined;
  constructor(message: string, options: { option?: string; cause?: unknown } = {}) {
    super(options.option ? `${message}; check ${options.option}` : message, {
      cause: options.cause,
    });
    this.name = 'StartupError';
    this.option = options.option;
  }
}

/** The innermost `cause` of an error chain (a storage error wraps the driver's). */
export function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 10; depth += 1) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  return current;
}

/** Every `code` along an error's chain (and an AggregateError's parts), outermost first. */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 10 || typeof value !== 'object' || value === null) return;
    const { code, cause, errors } = value as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' || typeof code === 'number') codes.push(String(code));
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
    visit(cause, depth + 1);
  };
  visit(error, 0);
  return codes;
}

/** The message of the innermost error, for the tail of a line. */
export function causeMessage(error: unknown): string {
  const root = rootCause(error);
  return root instanceof Error ? root.message : String(root);
}
