/**
 * Security headers on every answer, API included. helmet chooses the headers and their values; it runs once, at start,
 * and its result is sent with each answer. (@fastify/helmet builds a new helmet middleware for every request and parses
 * the CSP directives again each time: a sixth of the CPU of a 304 in the poll benchmark, for the same dozen headers.)
 */
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/** The headers helmet sets with `options`, as name → value. */
export function helmetHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value;
    },
    removeHeader: () => {},
  };
  let failure: unknown;
  helmet(options)({} as never, response as never, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure;
  return Object.freeze(headers);
}

/** Sends `headers` with every answer of `app`; a later hook may replace one (Swagger UI's relaxed CSP). */
export function installSecurityHeaders(app: FastifyInstance, options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers = helmetHeaders(options);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  return headers;
}
