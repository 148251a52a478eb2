/** Commands people give a running rollout: stored first, then the engine applies them on its next tick. */
import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getRolloutStamp } from '../../store/rollout-reads.ts';
import { assertAppAccess, principalOf } from '../auth/access.ts';
import type { ApiContext } from '../context.ts';
import { COMMON_ERRORS, Name, Problem, RolloutIdParams } from '../schemas.ts';
import { COMMAND_TYPES, CommandViewSchema, type ApiCommandType } from '../../model/wire.ts';
import { toCommandView } from '../responses/commands.ts';
import { requireService } from '../route-helpers.ts';
import { RolloutNotFound } from '../../errors.ts';

export const CommandBodySchema = Type.Object(
  {
    reason: Type.Optional(Type.String({ maxLength: 1000, description: 'why; written to the event log' })),
    cluster: Type.Optional(Name('only this cluster')),
    wave: Type.Optional(Name('only this wave')),
    full: Type.Optional(Type.Boolean({ description: 'promote: skip the remaining steps instead of ending one pause' })),
  },
  { additionalProperties: false },
);

const SUMMARIES: Record<ApiCommandType, string> = {
  promote: 'Promote: end the current pause (or, with full, every remaining step) of a cluster or of all waiting ones',
  approve: 'Approve the wave that waits for approval',
  pause: 'Pause the rollout where it is',
  resume: 'Resume a paused rollout',
  abort: 'Abort: roll back and end as aborted',
};

export function commandRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    // A command may come without a body at all (`curl -X POST .../pause`): that is the same as an empty object.
    typed.addHook('preValidation', async (request) => {
      if (request.body === undefined || request.body === null) request.body = {};
    });
    for (const type of COMMAND_TYPES) {
      typed.post(
        `/api/v1/rollouts/:id/${type}`,
        {
          config: { access: 'deployer' },
          schema: {
            tags: ['commands'],
            summary: SUMMARIES[type],
            description: '202 with the stored command; 409 with the reason when it does not fit the rollout\'s phase.',
            security: [{ bearer: [] }],
            params: RolloutIdParams,
            body: CommandBodySchema,
            response: { 202: CommandViewSchema, ...COMMON_ERRORS, 404: Problem, 409: Problem, 415: Problem, 422: Problem },
          },
        },
        async (request, reply) => {
          const service = requireService(context);
          const { id } = request.params;
          const stamp = await getRolloutStamp(context.pool, id);
          if (!stamp) throw new RolloutNotFound(id);
          assertAppAccess(request, stamp.app);
          const { reason, cluster, wave, full } = request.body;
          const command = await service.command({
            rolloutId: id,
            type,
            args: {
              ...(cluster !== undefined ? { cluster } : {}),
              ...(wave !== undefined ? { wave } : {}),
              ...(full !== undefined ? { full } : {}),
            },
            reason: reason ?? null,
            actor: principalOf(request).name,
          });
          return reply.code(202).send(toCommandView(command));
        },
      );
    }
  };
}
