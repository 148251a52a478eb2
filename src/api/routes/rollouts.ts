/** Creating, planning, listing and reading rollouts. */
import { Type } from 'typebox';
import type { FastifyPluginAsync, FastifyRequest, FastifySchema } from 'fastify';
import type { SwaggerTransform } from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RolloutNotFound, SpecInvalid } from '../../errors.ts';
import { RolloutSpecSchema } from '../../spec/schema.ts';
import { getRollout } from '../../store/rollouts.ts';
import { getRolloutStamp } from '../../store/rollout-reads.ts';
import { assertAppAccess, principalOf } from '../auth/access.ts';
import type { ApiContext } from '../context.ts';
import { ifNoneMatchMatches, rolloutEtag } from '../live/etag.ts';
import { COMMON_ERRORS, ListRolloutsQuery, page, Problem, RolloutIdParams } from '../schemas.ts';
import { PlanPreviewSchema, RolloutStatusSchema } from '../../model/wire.ts';
import { toStatusView } from '../responses/rollout-status.ts';
import { YAML_TYPES } from '../body.ts';
import { ApiError } from '../problem.ts';
import { requireService, rolloutPage, sendRollout } from '../route-helpers.ts';

/** The request body documented as the rollout spec; the engine validates it, so the route itself does not. */
function documentSpecBody(description: string): SwaggerTransform {
  return ({ schema, url }) => ({
    schema: { ...schema, body: { ...RolloutSpecSchema, description }, consumes: ['application/json', ...YAML_TYPES] } as FastifySchema,
    url: url.replace('::', ':'),
  });
}

/**
 * Refuses, before the engine sees it, a request without a rollout file and a rollout for an app the token may not
 * touch.
 */
function assertSpecAppAccess(request: FastifyRequest, input: unknown): void {
  if (input === undefined || input === null) {
    throw new ApiError(400, 'body_required', 'the body is empty: send the rollout file as JSON (Content-Type: application/json) or YAML (application/yaml)');
  }
  if (input !== null && typeof input === 'object' && typeof (input as { app?: unknown }).app === 'string') {
    assertAppAccess(request, (input as { app: string }).app);
  }
}


export function rolloutRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.post(
      '/api/v1/rollouts',
      {
        config: { access: 'deployer', swaggerTransform: documentSpecBody('the rollout file, as JSON or YAML') },
        schema: {
          tags: ['rollouts'],
          summary: 'Create a rollout',
          description:
            'Starts a rollout. With an Idempotency-Key, the same key and body return the same rollout (200) and the same key ' +
            'with another body is a 422. While the app has an active rollout the answer is 409 naming it, unless ' +
            '?supersede=true, which aborts the active one first.',
          security: [{ bearer: [] }],
          querystring: Type.Object(
            { supersede: Type.Optional(Type.Boolean({ default: false, description: 'abort the app\'s active rollout first' })) },
            { additionalProperties: false },
          ),
          headers: Type.Object({
            'idempotency-key': Type.Optional(
              Type.String({ pattern: '^[\\x21-\\x7e]{1,255}$', description: 'a key of your choosing: retries with it create the rollout once' }),
            ),
          }),
          response: { 200: RolloutStatusSchema, 201: RolloutStatusSchema, ...COMMON_ERRORS, 409: Problem, 413: Problem, 415: Problem, 422: Problem },
        },
      },
      async (request, reply) => {
        const service = requireService(context);
        const input = request.body;
        assertSpecAppAccess(request, input);
        const key = request.headers['idempotency-key'];
        const result = await service.create({
          input,
          actor: principalOf(request).name,
          ...(key !== undefined ? { idempotencyKey: key } : {}),
          supersede: request.query.supersede ?? false,
        });
        return sendRollout(reply, result);
      },
    );

    typed.post(
      '/api/v1/rollouts::plan',
      {
        config: { access: 'viewer', swaggerTransform: documentSpecBody('the rollout file to resolve, as JSON or YAML') },
        schema: {
          tags: ['rollouts'],
          summary: 'Resolve a rollout file into its plan, without starting anything',
          security: [{ bearer: [] }],
          response: { 200: PlanPreviewSchema, ...COMMON_ERRORS, 413: Problem, 415: Problem, 422: Problem },
        },
      },
      async (request) => {
        const service = requireService(context);
        assertSpecAppAccess(request, request.body);
        const result = service.plan(request.body);
        if (!result.ok) throw new SpecInvalid(result.errors);
        return result.preview;
      },
    );

    typed.get(
      '/api/v1/rollouts',
      {
        schema: {
          tags: ['rollouts'],
          summary: 'List rollouts, newest first',
          security: [{ bearer: [] }],
          querystring: ListRolloutsQuery,
          response: { 200: page(RolloutStatusSchema), 304: Type.Null({ description: 'not modified' }), ...COMMON_ERRORS },
        },
      },
      async (request, reply) => rolloutPage(context, request, reply, request.query, '/api/v1/rollouts'),
    );

    typed.get(
      '/api/v1/rollouts/:id',
      {
        schema: {
          tags: ['rollouts'],
          summary: 'The whole status of a rollout',
          description:
            'Sends an ETag. A request with a matching If-None-Match gets 304 with no body; it is answered from memory while ' +
            'the API listens to PostgreSQL, so polling it is cheap.',
          security: [{ bearer: [] }],
          params: RolloutIdParams,
          response: { 200: RolloutStatusSchema, 304: Type.Null({ description: 'not modified' }), ...COMMON_ERRORS, 404: Problem },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        reply.header('cache-control', 'no-cache');
        const conditional = request.headers['if-none-match'];
        if (conditional !== undefined) {
          const head = context.versions?.get(id) ?? (await getRolloutStamp(context.pool, id));
          if (!head) throw new RolloutNotFound(id);
          assertAppAccess(request, head.app);
          const etag = rolloutEtag(head.version);
          if (ifNoneMatchMatches(conditional, etag)) return reply.code(304).header('etag', etag).send();
        }
        const ticket = context.versions?.begin();
        const record = await getRollout(context.pool, id);
        if (!record) throw new RolloutNotFound(id);
        assertAppAccess(request, record.app);
        if (ticket !== undefined) context.versions?.remember(ticket, id, record.app, record.version);
        return reply.header('etag', rolloutEtag(record.version)).send(toStatusView(record));
      },
    );
  };
}
