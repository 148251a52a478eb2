/** Stored analysis samples of a rollout, for charts. */
import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listSamples } from '../../store/samples.ts';
import type { ApiContext } from '../context.ts';
import { COMMON_ERRORS, Name, Problem, RolloutIdParams } from '../schemas.ts';
import { SampleViewSchema } from '../../model/wire.ts';
import { toSampleView } from '../responses/samples.ts';
import { readableHead } from '../route-helpers.ts';

export function analysisRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    typed.get(
      '/api/v1/rollouts/:id/analysis',
      {
        schema: {
          tags: ['analysis'],
          summary: 'Analysis samples of the rollout, oldest first',
          security: [{ bearer: [] }],
          params: RolloutIdParams,
          querystring: Type.Object(
            {
              cluster: Type.Optional(Name('only samples from this cluster')),
              metric: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][-A-Za-z0-9_.:]*$', maxLength: 128, description: 'only this metric' })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(SampleViewSchema) }), ...COMMON_ERRORS, 404: Problem },
        },
      },
      async (request) => {
        const head = await readableHead(context, request, request.params.id);
        const samples = await listSamples(context.pool, head.id, {
          limit: request.query.limit ?? 1000,
          ...(request.query.cluster !== undefined ? { cluster: request.query.cluster } : {}),
          ...(request.query.metric !== undefined ? { metric: request.query.metric } : {}),
        });
        return { items: samples.map(toSampleView) };
      },
    );
  };
}
