/**
 * Load-balancer endpoints (API.md "Paths"), no auth: `/__lbheartbeat__`
 * says the process answers; `/__heartbeat__` asks storage (and its cache)
 * (and the token server's database) and is 503 when one is down; `/__version__` names the build.
 */
import type { FastifyInstance } from 'fastify';
import { sendJson } from '../http/wire-format.js';
import type { RouteContext } from './route-context.js';

export function registerHealthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/__lbheartbeat__', async (_request, reply) => sendJson(reply, {}));

  app.get('/__heartbeat__', async (_request, reply) => {
    const health = await ctx.storage.healthCheck().catch(() => ({ database: false }));
    const checks: Record<string, 'Ok' | 'Err'> = { database: health.database ? 'Ok' : 'Err' };
    if ('cache' in health && health.cache !== undefined) checks.cache = health.cache ? 'Ok' : 'Err';
    for (const [name, check] of Object.entries(ctx.healthChecks ?? {})) {
      checks[name] = (await check().catch(() => false)) ? 'Ok' : 'Err';
    }
    const ok = Object.values(checks).every((v) => v === 'Ok');
    return sendJson(reply.code(ok ? 200 : 503), {
      status: ok ? 'Ok' : 'Err',
      version: ctx.config.version,
      ...checks,
    });
  });

  app.get('/__version__', async (_request, reply) =>
    sendJson(reply, {
      name: 'syncstorage-ts',
      version: ctx.config.version,
      source: 'syncstorage-ts',
    }),
  );
}
