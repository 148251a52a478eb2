/** An app's rollout history. */
import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { AppRolloutsQuery, COMMON_ERRORS, Name, page } from '../schemas.ts';
import { RolloutStatusSchema } from '../../model/wire.ts';
import { rolloutPage } from '../route-helpers.ts';

export function appRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    typed.get(
      '/api/v1/apps/:app/rollouts',
      {
        schema: {
          tags: ['rollouts'],
          summary: "The app's rollouts, newest first",
          security: [{ bearer: [] }],
          params: Type.Object({ app: Name('the app') }, { additionalProperties: false }),
          querystring: AppRolloutsQuery,
          response: { 200: page(RolloutStatusSchema), 304: Type.Null({ description: 'not modified' }), ...COMMON_ERRORS },
        },
      },
      async (request, reply) =>
        rolloutPage(context, request, reply, { ...request.query, app: request.params.app }, `/api/v1/apps/${request.params.app}/rollouts`),
    );
  };
}
