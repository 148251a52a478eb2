import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Redis } from '../queue/connection.ts';
import { routeAccess } from './auth/access.ts';
import { ApiError } from './problem.ts';
import { LeasedRateLimit } from './rate-lease.ts';

export interface RateLimitSettings {
  /** Requests per token (or per address without a valid token) per window. */
  max: number;
  timeWindowMs: number;
  /**
   * Prefix of the counters' Redis keys. Every API process of one Oleada must use the same one, so that a token's
   * requests are counted together whichever process answers; `oleada api` uses `<OLEADA_QUEUE_PREFIX>:rate-limit:`.
   */
  namespace?: string;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { max: 600, timeWindowMs: 60_000 };

/**
 * The API's rate limit, counted in Redis so that several API processes behind one address share it: a caller cannot
 * multiply its allowance by the number of processes. Each process leases requests from Redis in batches
 * (rate-lease.ts says how, and what that costs in precision), so a poll seldom waits for Redis.
 *
 * Must be registered before the access hooks: its per-route hook must run after the caller is identified (a global
 * hook) and before the role is enforced, so that guessing tokens is limited per address. When Redis cannot answer,
 * requests are let through (and Redis's outage shows in /readyz): the limit protects the API, and refusing every
 * caller for it would be the larger harm.
 */
export function registerRateLimit(app: FastifyInstance, redis: Redis, limits: RateLimitSettings, metricsAuth: boolean): void {
  const leases = new LeasedRateLimit(redis, { max: limits.max, timeWindowMs: limits.timeWindowMs, namespace: limits.namespace ?? 'oleada:rate-limit:' });
  const seconds = Math.round(limits.timeWindowMs / 1000);
  // A callback hook, not an async one: every request but the health probes passes it (docs/performance.md, poll).
  const hook: onRequestHookHandler = (request, reply, done) => {
    const principal = request.principal;
    leases.take(principal ? `token:${principal.name}` : `ip:${request.ip}`, (decision) => {
      if (decision === undefined) {
        done();
        return;
      }
      const reset = Math.ceil(decision.resetMs / 1000);
      reply.header('x-ratelimit-limit', limits.max);
      reply.header('x-ratelimit-remaining', decision.remaining);
      reply.header('x-ratelimit-reset', reset);
      if (decision.allowed) {
        done();
        return;
      }
      reply.header('retry-after', reset);
      const who = principal ? `the token "${principal.name}"` : 'this address';
      done(new ApiError(429, 'rate_limited', `${who} made more than ${limits.max} requests in ${seconds} s; retry in ${reset} s`));
    });
  };
  app.addHook('onRoute', (route) => {
    if (routeAccess(route.url, route.config?.access, metricsAuth) === 'open') return;
    if (Array.isArray(route.onRequest)) route.onRequest = [...route.onRequest, hook];
    else if (route.onRequest) route.onRequest = [route.onRequest, hook];
    else route.onRequest = [hook];
  });
}
