/**
 * The admin page: a few fixed static files (from `admin-page/` beside
 * `src/` and `dist/`) and the chart library from its npm package, served
 * from a fixed table rather than a folder, so no request path ever reaches
 * the file system. They hold no data, so they load without the token; the
 * page asks for it and sends it with every API call.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);
// src/admin/ and dist/admin/ are both two levels below the package root.
const pageDir = (name: string) =>
  fileURLToPath(new URL(`../../admin-page/${name}`, import.meta.url));

const FILES: ReadonlyArray<{ url: string; path: () => string; type: string }> = [
  { url: '/', path: () => pageDir('index.html'), type: 'text/html; charset=utf-8' },
  { url: '/admin.js', path: () => pageDir('admin.js'), type: 'text/javascript; charset=utf-8' },
  { url: '/admin.css', path: () => pageDir('admin.css'), type: 'text/css; charset=utf-8' },
  {
    url: '/vendor/uPlot.iife.min.js',
    path: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  {
    url: '/vendor/uPlot.min.css',
    path: () => require.resolve('uplot/dist/uPlot.min.css'),
    type: 'text/css; charset=utf-8',
  },
];

export function registerAdminPage(app: FastifyInstance): void {
  for (const file of FILES) {
    // Read once, at start: a missing file is an installation error, said at once.
    const body = readFileSync(file.path());
    app.get(file.url, { config: { public: true } }, async (_request, reply) =>
      reply
        .type(file.type)
        .header('Cache-Control', 'no-cache')
        .header('X-Content-Type-Options', 'nosniff')
        .header(
          'Content-Security-Policy',
          "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
        )
        .send(body),
    );
  }
}
