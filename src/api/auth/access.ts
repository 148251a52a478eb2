/**
 * Who may call what. A hook on every request identifies the caller from its bearer token; the rate limiter then counts
 * the request against that token (or the address, for callers without a valid token), and only after that is the
 * route's required role enforced, so guessing tokens is rate-limited too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { ApiError, sendProblem } from '../problem.ts';
import { roleAllows, type Principal, type Role, type TokenStore } from './tokens.ts';

/** What a route requires: no token at all, or a token with at least this role. */
export type Access = 'open' | Role;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
    /** Why there is no principal although an Authorization header came. */
    authProblem: string | undefined;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export interface AccessOptions {
  /** Read at every request, so a reloaded tokens file takes effect at once. */
  tokens: () => TokenStore;
  /** When true, /metrics needs a viewer token. */
  metricsAuth: boolean;
}

const BEARER = /^Bearer +([\x21-\x7e]{1,512}) *$/i;

/**
 * The access a route needs: what its config says, else viewer for /api/v1 (its documentation aside) and open for the
 * rest (health probes, and /metrics unless OLEADA_METRICS_AUTH).
 */
export function routeAccess(url: string, configured: Access | undefined, metricsAuth: boolean): Access {
  if (configured !== undefined) return configured;
  if (url === '/metrics') return metricsAuth ? 'viewer' : 'open';
  if (url === '/api/v1/docs' || url.startsWith('/api/v1/docs/')) return 'open';
  return url.startsWith('/api/v1/') ? 'viewer' : 'open';
}

// Both hooks take a callback rather than being async: every request passes them, and an async hook costs a promise
// and a microtask each (docs/performance.md, the poll scenario).
function identify(tokens: () => TokenStore): onRequestHookHandler {
  return (request, _reply, done) => {
    request.principal = undefined;
    request.authProblem = undefined;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = BEARER.exec(header);
      if (!match) request.authProblem = 'the Authorization header must be "Bearer <token>"';
      else {
        const principal = tokens().authenticate(match[1]!);
        if (principal) request.principal = principal;
        else request.authProblem = 'the token is not known; check OLEADA_TOKEN against the tokens file';
      }
    }
    done();
  };
}

function enforce(access: Access): onRequestHookHandler {
  return (request, reply, done) => {
    const refusal = refuse(access, request, reply);
    // A refusal has been sent: the request goes no further, so `done` is not called.
    if (!refusal) done();
  };
}

/** Sends the 401 or 403 the request earns, if any; returns whether it did. */
function refuse(access: Access, request: FastifyRequest, reply: FastifyReply): boolean {
  if (access === 'open') return false;
  const principal = request.principal;
  if (!principal) {
    const invalid = request.authProblem !== undefined;
    reply.header('www-authenticate', invalid ? 'Bearer realm="oleada", error="invalid_token"' : 'Bearer realm="oleada"');
    sendProblem(
      request,
      reply,
      401,
      invalid ? 'invalid_token' : 'token_required',
      request.authProblem ?? 'this endpoint needs a token: send "Authorization: Bearer <token>" (the CLI reads OLEADA_TOKEN)',
    );
    return true;
  }
  if (!roleAllows(principal.role, access)) {
    sendProblem(request, reply, 403, 'role_insufficient', `the token "${principal.name}" has the role ${principal.role}; this needs ${access} or above`);
    return true;
  }
  return false;
}

/**
 * Installs identification as a global hook and enforcement as the last onRequest hook of every route registered
 * afterwards. Register the rate limiter before calling this, so its per-route hook runs between the two.
 */
export function installAccess(app: FastifyInstance, options: AccessOptions): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('authProblem', undefined);
  app.addHook('onRequest', identify(options.tokens));
  app.addHook('onRoute', (route) => {
    const access = routeAccess(route.url, route.config?.access, options.metricsAuth);
    const hook = enforce(access);
    if (Array.isArray(route.onRequest)) route.onRequest = [...route.onRequest, hook];
    else if (route.onRequest) route.onRequest = [route.onRequest, hook];
    else route.onRequest = [hook];
  });
}

/** The caller, for handlers of routes that require a token (enforcement already ran). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'token_required', 'this endpoint needs a token');
  return request.principal;
}

/** Refuses, as 403, a token limited to other apps; say nothing more about the rollout than its app. */
export function assertAppAccess(request: FastifyRequest, app: string): void {
  const principal = principalOf(request);
  if (!principal.canAccessApp(app)) {
    throw new ApiError(
      403,
      'app_not_allowed',
      `the token "${principal.name}" is limited to apps matching ${(principal.apps ?? []).join(', ')}; it may not act on "${app}"`,
    );
  }
}
