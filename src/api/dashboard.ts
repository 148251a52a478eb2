/**
 * The dashboard: the single-page app that `npm run build` compiles into .oleada/build/web (src/web), served at `/`,
 * with strict security headers on every answer. Hashed assets are cached for a year; index.html never without asking.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { installSecurityHeaders } from './security-headers.ts';

/** Where the built app is: beside the compiled API (.oleada/build/web), or under .oleada/build when run from src/. */
export function defaultDashboardDir(): string {
  const here = fileURLToPath(import.meta.url);
  // src/web holds the sources (its index.html too); only the compiled tree has the built app beside it.
  const relative = /[\\/]\.oleada[\\/]build[\\/]api[\\/]/.test(here) ? '../web/' : '../../.oleada/build/web/';
  return fileURLToPath(new URL(relative, import.meta.url));
}

/** The paths the app routes itself; each answers index.html so a reload or a shared link opens the right view. */
export const DASHBOARD_PATHS = ['/', '/sign-in', '/rollouts', '/rollouts/:id', '/fleet', '/clusters'];

const CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Swagger UI loads only its own scripts, but renders with inline style attributes and data: images, which the
 * dashboard's policy forbids; its pages get the same policy with those two relaxations.
 */
const DOCS_CSP = Object.entries({ ...CSP, 'style-src': ["'self'", "'unsafe-inline'"] })
  .map(([name, values]) => `${name} ${values.join(' ')}`)
  .join('; ');

const MISSING = (dir: string) =>
  `<!doctype html><meta charset="utf-8"><title>Oleada</title><p>The dashboard is not built (no ${dir}index.html). ` +
  'Run <code>npm run build</code>, or use the API at <a href="/api/v1/docs">/api/v1/docs</a>.</p>';

export async function registerDashboard(app: FastifyInstance, dir = defaultDashboardDir()): Promise<void> {
  installSecurityHeaders(app, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP },
    // The API is called from its own origin only; no page of another site may embed or read it.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/api/v1/docs')) reply.header('content-security-policy', DOCS_CSP);
    done(null, payload);
  });

  const indexFile = `${dir}index.html`;
  const built = existsSync(indexFile);
  // Read once: index.html changes only with a new build, which comes with a restart.
  const index = built ? readFileSync(indexFile) : Buffer.from(MISSING(dir));
  const etag = `"${createHash('sha256').update(index).digest('base64url').slice(0, 16)}"`;
  const sendIndex = (ifNoneMatch: string | undefined, reply: FastifyReply) => {
    reply.header('cache-control', 'no-cache').header('etag', etag);
    if (ifNoneMatch === etag) return reply.code(304).send();
    return reply.type('text/html; charset=utf-8').send(index);
  };
  for (const url of DASHBOARD_PATHS) {
    app.get(url, { schema: { hide: true }, config: { access: 'open' } }, async (request, reply) => sendIndex(request.headers['if-none-match'], reply));
  }
  if (!built) return;
  await app.register(fastifyStatic, {
    root: `${dir}assets`,
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    // Vite names every asset after a hash of its content, so a name is never reused for other bytes.
    cacheControl: false,
    setHeaders: (res) => res.setHeader('cache-control', 'public, max-age=31536000, immutable'),
  });
}
