/** Commands people give a running rollout: stored first, then the engine applies them on its next tick. */
import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { principalOf } from '../auth/access.ts';
import type { ApiContext } from '../context.ts';
import { idempotent, IdempotencyKeyHeader, type Answer } from '../idempotency.ts';
import { expectedRevision, readPrecondition } from '../preconditions.ts';
import { refusalRecorder } from '../refusals.ts';
import { getCommand } from '../../store/commands.ts';
import { COMMON_ERRORS, Name, Problem, RolloutIdParams } from '../schemas.ts';
import { COMMAND_TYPES, CommandViewSchema, type ApiCommandType } from '../../model/wire.ts';
import { toCommandView } from '../responses/commands.ts';
import { readableHead, requireService } from '../route-helpers.ts';

export const CommandBodySchema = Type.Object(
  {
    reason: Type.Optional(Type.String({ maxLength: 1000, description: 'why; written to the event log' })),
    cluster: Type.Optional(Name('only this cluster')),
    wave: Type.Optional(Name('only this wave')),
    full: Type.Optional(Type.Boolean({ description: 'promote: skip the remaining steps instead of ending one pause' })),
    revision: Type.Optional(
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'act only if the rollout is still at this revision (else 412); the same as If-Match' }),
    ),
  },
  { additionalProperties: false },
);

export const CommandHeaders = Type.Object({
  'idempotency-key': IdempotencyKeyHeader,
  'if-match': Type.Optional(Type.String({ maxLength: 1024, description: 'the ETag of the rollout status the command was decided on; 412 when it is no longer current' })),
});

const SUMMARIES: Record<ApiCommandType, string> = {
  promote: 'Promote: end the current pause (or, with full, every remaining step) of a cluster or of all waiting ones',
  approve: 'Approve the wave that waits for approval',
  pause: 'Pause the rollout where it is',
  resume: 'Resume a paused rollout',
  abort: 'Abort: roll back and end as aborted',
};

export function commandRoutes(context: ApiContext): FastifyPluginAsync {
  /** A replayed command is shown as it is now, with its outcome if the engine has applied it since. */
  const freshCommand = async (answer: Answer) => {
    const command = answer.commandId === null ? undefined : await getCommand(context.pool, answer.commandId);
    return command ? toCommandView(command) : answer.body;
  };
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    // A command may come without a body at all (`curl -X POST .../pause`): that is the same as an empty object.
    typed.addHook('preValidation', async (request) => {
      if (request.body === undefined || request.body === null) request.body = {};
    });
    typed.addHook('onSend', refusalRecorder(context.pool, (request) => request.routeOptions.url?.split('/').at(-1) ?? 'unknown'));
    for (const type of COMMAND_TYPES) {
      typed.post(
        `/api/v1/rollouts/:id/${type}`,
        {
          config: { access: 'deployer' },
          schema: {
            tags: ['commands'],
            summary: SUMMARIES[type],
            description:
              '202 with the stored command; 409 with the reason when it does not fit the rollout\'s phase. With If-Match (the ETag of ' +
              'the rollout\'s status) or a revision field, 412 with the current phase and revision when the rollout has moved on. ' +
              'With an Idempotency-Key, a repeat of the same request gets the first answer (header Idempotent-Replayed: true) and ' +
              'the same key with another request is a 422. Refusals are recorded with the caller and the reason.',
            security: [{ bearer: [] }],
            params: RolloutIdParams,
            headers: CommandHeaders,
            body: CommandBodySchema,
            response: { 202: CommandViewSchema, ...COMMON_ERRORS, 404: Problem, 409: Problem, 412: Problem, 415: Problem, 422: Problem },
          },
        },
        async (request, reply) => {
          const service = requireService(context);
          const { id } = request.params;
          const head = await readableHead(context, request, id);
          const { reason, cluster, wave, full, revision } = request.body;
          // The precondition is checked inside: a repeat of a request that succeeded gets its answer, not a 412.
          return idempotent(request, reply, { pool: context.pool, rolloutId: id, fresh: freshCommand }, async () => {
            const expected = expectedRevision(readPrecondition(request.headers['if-match'], revision), head);
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
              ...(expected !== undefined ? { expectedRevision: expected } : {}),
            });
            return { status: 202, body: toCommandView(command), commandId: command.id };
          });
        },
      );
    }
  };
}
