/**
 * The rollout file as submitted, with the thresholds of its metrics resolved, for the dashboard: the file never
 * changes after creation, so a client reads it once per rollout.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getRollout } from '../../store/rollouts.ts';
import { assertAppAccess } from '../auth/access.ts';
import type { ApiContext } from '../context.ts';
import { COMMON_ERRORS, Problem, RolloutIdParams } from '../schemas.ts';
import { RolloutFileSchema } from '../../model/dashboard-wire.ts';
import { RolloutNotFound } from '../../errors.ts';

export function rolloutFileRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/api/v1/rollouts/:id/file',
      {
        schema: {
          tags: ['rollouts'],
          summary: 'The rollout file as submitted, and the thresholds of its metrics',
          security: [{ bearer: [] }],
          params: RolloutIdParams,
          response: { 200: RolloutFileSchema, ...COMMON_ERRORS, 404: Problem },
        },
      },
      async (request, reply) => {
        const record = await getRollout(context.pool, request.params.id);
        if (!record) throw new RolloutNotFound(request.params.id);
        assertAppAccess(request, record.app);
        // The file and plan are written once, at creation: a private cache may keep them.
        reply.header('cache-control', 'private, max-age=3600');
        const analysis = record.plan.analysis;
        return {
          spec: record.spec as unknown as Record<string, unknown>,
          metrics: (analysis?.metrics ?? []).map((m) => ({
            name: m.name,
            ...(m.min !== undefined ? { min: m.min } : {}),
            ...(m.max !== undefined ? { max: m.max } : {}),
          })),
          analysisIntervalMs: analysis?.intervalMs ?? null,
          waves: record.plan.waves.map((w) => ({ name: w.name, approval: w.approval, bakeMs: w.bakeMs, stepCount: w.steps.length })),
        };
      },
    );
  };
}
