/**
 * Load-balancer endpoints (API.md "Paths"), no auth: `/__lbheartbeat__`
 * says the process answers (liveness); `/__heartbeat__` asks storage and its
 * cache and is 503 only when the database is down: while it still serves
 * (memcached down costs speed, not answers) it stays 200 and names the
 * failing cache in the body, so a cache outage does not pull every node out
 * of a load balancer at once. Other checks (the token server's database) count as the database does. `/__version__` names the build.
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
    // Only the cache may fail while the node still serves.
    const ok = Object.entries(checks).every(([name, v]) => name === 'cache' || v === 'Ok');
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
