import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from '../queue/connection.ts';
import { routeAccess } from './auth/access.ts';
import { ApiError } from './problem.ts';

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
 * multiply its allowance by the number of processes. Must be registered before the access hooks: its per-route hook
 * must run after the caller is identified (a global hook) and before the role is enforced, so that guessing tokens is
 * limited per address. When Redis cannot answer, requests are let through (and Redis's outage shows in /readyz):
 * the limit protects the API, and refusing every caller for it would be the larger harm.
 */
export async function registerRateLimit(app: FastifyInstance, redis: Redis, limits: RateLimitSettings, metricsAuth: boolean): Promise<void> {
  await app.register(rateLimit, {
    max: limits.max,
    timeWindow: limits.timeWindowMs,
    redis,
    nameSpace: limits.namespace ?? 'oleada:rate-limit:',
    skipOnError: true,
    keyGenerator: (request) => (request.principal ? `token:${request.principal.name}` : `ip:${request.ip}`),
    allowList: (request) => routeAccess(request.routeOptions.url ?? '', request.routeOptions.config?.access, metricsAuth) === 'open',
    errorResponseBuilder: (request, context) =>
      new ApiError(
        429,
        'rate_limited',
        `${request.principal ? `the token "${request.principal.name}"` : 'this address'} made more than ${context.max} requests in ${Math.round(limits.timeWindowMs / 1000)} s; retry in ${context.after}`,
      ),
  });
}
