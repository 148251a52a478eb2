/** A rollout's notification deliveries: where each event went, whether it arrived, how many tries, the last error. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DeliveryListSchema, toDeliveryView } from '../../model/deliveries.ts';
import { listDeliveries } from '../../store/deliveries.ts';
import type { ApiContext } from '../context.ts';
import { readableHead } from '../route-helpers.ts';
import { COMMON_ERRORS, Problem, RolloutIdParams } from '../schemas.ts';

export function deliveryRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/api/v1/rollouts/:id/deliveries',
      {
        schema: {
          tags: ['notifications'],
          summary: "The rollout's notification deliveries, oldest first: status, tries and last error of each",
          security: [{ bearer: [] }],
          params: RolloutIdParams,
          response: { 200: DeliveryListSchema, ...COMMON_ERRORS, 404: Problem },
        },
      },
      async (request) => {
        const head = await readableHead(context, request, request.params.id);
        return { items: (await listDeliveries(context.pool, head.id)).map(toDeliveryView) };
      },
    );
  };
}
