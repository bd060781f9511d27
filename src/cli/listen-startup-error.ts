/**
 * Why a public listener (`serve`, `tokenserver`) could not listen, in one
 * line naming --port or --host: a port in use, a privileged port, an
 * address this machine does not have.
 */
import type { FastifyInstance } from 'fastify';
import { errorCodes, StartupError } from './startup-error.js';

/** `app.listen` on --host/--port; a failure is the StartupError that names which to change. */
export async function listenOnPublicPort(
  app: Pick<FastifyInstance, 'listen'>,
  where: { host: string; port: number },
): Promise<void> {
  try {
    await app.listen({ host: where.host, port: where.port });
  } catch (error) {
    throw explainListenFailure(where, error);
  }
}

export function explainListenFailure(
  where: { host: string; port: number },
  error: unknown,
): StartupError {
  const codes = errorCodes(error);
  const { host, port } = where;
  if (codes.includes('EADDRINUSE')) {
    return new StartupError(`port ${port} on ${host} is already in use`, {
      option: '--port (SYNC_PORT)',
      cause: error,
    });
  }
  if (codes.includes('EACCES')) {
    return new StartupError(
      `not allowed to listen on ${host}:${port} (ports below 1024 need privileges)`,
      { option: '--port (SYNC_PORT)', cause: error },
    );
  }
  if (
    codes.some((code) => ['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME'].includes(code))
  ) {
    return new StartupError(`cannot listen on ${host}: no such address on this machine`, {
      option: '--host (SYNC_HOST)',
      cause: error,
    });
  }
  return new StartupError(`cannot listen on ${host}:${port}: ${(error as Error).message}`, {
    option: '--host (SYNC_HOST) and --port (SYNC_PORT)',
    cause: error,
  });
}
