/** A rollout's event log: pages of it, and a Server-Sent Events stream that resumes with Last-Event-ID. */
import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listEvents } from '../../store/events.ts';
import { isTerminal } from '../../model/state.ts';
import type { ApiContext } from '../context.ts';
import { streamRolloutEvents } from '../live/event-stream.ts';
import { COMMON_ERRORS, Problem, RolloutIdParams } from '../schemas.ts';
import { EventPageSchema } from '../../model/wire.ts';
import { toEventView } from '../responses/events.ts';
import { readableHead } from '../route-helpers.ts';
import { ApiError } from '../problem.ts';

const Seq = (description: string) => Type.Integer({ minimum: 0, maximum: 2_147_483_647, description });

function lastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d{1,10}$/.test(value.trim()) || Number(value) > 2_147_483_647) {
    throw new ApiError(400, 'validation_failed', 'the Last-Event-ID header must be the sequence number of an event this stream sent', {
      errors: [{ path: 'headers/last-event-id', message: 'must be a whole number of at most 2147483647' }],
    });
  }
  return Number(value);
}

export function eventRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/rollouts/:id/events',
      {
        schema: {
          tags: ['events'],
          summary: "A page of the rollout's events, oldest first",
          security: [{ bearer: [] }],
          params: RolloutIdParams,
          querystring: Type.Object(
            {
              after: Type.Optional(Seq('only events with a greater sequence number')),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 500 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: EventPageSchema, ...COMMON_ERRORS, 404: Problem },
        },
      },
      async (request) => {
        const head = await readableHead(context, request, request.params.id);
        const after = request.query.after ?? 0;
        const limit = request.query.limit ?? 500;
        const events = await listEvents(context.pool, head.id, after, limit);
        return {
          items: events.map(toEventView),
          nextAfter: events.at(-1)?.seq ?? after,
          more: events.length === limit,
          phase: head.phase,
          terminal: isTerminal(head.phase),
        };
      },
    );

    typed.get(
      '/api/v1/rollouts/:id/events/stream',
      {
        schema: {
          tags: ['events'],
          summary: "The rollout's events as Server-Sent Events",
          description:
            'Each event is `id: <seq>`, `event: event`, `data: <event JSON>`. A reconnecting client sends Last-Event-ID ' +
            '(or ?after=) and gets only what it missed. A comment line comes every 15 s while quiet. With ?status=true the ' +
            'stream also sends `event: status` (no id) with `{ etag, rollout }` when it opens and whenever the rollout changes, ' +
            'so a client that shows the status needs no polling. Once the rollout has ended and every event was sent, the ' +
            'stream sends `event: end` with the final phase and closes.',
          security: [{ bearer: [] }],
          params: RolloutIdParams,
          headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 20 })) }),
          querystring: Type.Object(
            {
              after: Type.Optional(Seq('start after this sequence number')),
              status: Type.Optional(
                Type.Boolean({
                  default: false,
                  description: 'also send the whole rollout status (`event: status`, data `{ etag, rollout }`) at the start and whenever it changes',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          produces: ['text/event-stream'],
          response: {
            200: Type.String({ description: 'text/event-stream' }),
            ...COMMON_ERRORS,
            404: Problem,
          },
        },
      },
      async (request, reply) => {
        const resumeFrom = lastEventId(request.headers['last-event-id']) ?? request.query.after ?? 0;
        const head = await readableHead(context, request, request.params.id);
        await streamRolloutEvents(
          {
            pool: context.pool,
            feed: context.feed,
            streams: context.streams,
            options: context.streamOptions,
            status: request.query.status ? context.statusSnapshots : undefined,
          },
          request,
          reply,
          head.id,
          resumeFrom,
        );
      },
    );
  };
}
