/** An app's history, and undo: start again what ran before. */
import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { undoRollout } from '../../engine/undo.ts';
import { HistorySchema, UndoResultSchema, type HistoryItem } from '../../model/history-wire.ts';
import { appHistory, type HistoryEntry } from '../../store/history.ts';
import { assertAppAccess, principalOf } from '../auth/access.ts';
import type { ApiContext } from '../context.ts';
import { IdempotencyKeyHeader } from '../idempotency.ts';
import { refusalRecorder } from '../refusals.ts';
import { COMMON_ERRORS, Name, Problem } from '../schemas.ts';
import { requireService, sendRollout } from '../route-helpers.ts';

const AppParams = Type.Object({ app: Name('the app') }, { additionalProperties: false });

function historyItem(entry: HistoryEntry): HistoryItem {
  return {
    revision: entry.revision,
    id: entry.id,
    version: entry.spec.version ?? null,
    image: entry.spec.image ?? null,
    outcome: entry.phase,
    reason: entry.reason,
    createdBy: entry.createdBy,
    createdAt: entry.createdAt.toISOString(),
    finishedAt: entry.finishedAt ? entry.finishedAt.toISOString() : null,
  };
}

export const UndoBodySchema = Type.Object(
  {
    toRevision: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'start again this revision of the app\'s history' })),
    toVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'start again the newest succeeded rollout of this version' })),
  },
  { additionalProperties: false },
);

export function historyRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    typed.addHook('preValidation', async (request) => {
      if (request.method === 'POST' && (request.body === undefined || request.body === null)) request.body = {};
    });
    typed.addHook('onSend', refusalRecorder(context.pool, () => 'undo'));

    typed.get(
      '/api/v1/apps/:app/history',
      {
        schema: {
          tags: ['rollouts'],
          summary: "The app's rollouts as history, newest first: revision, version, outcome, who started each and when",
          security: [{ bearer: [] }],
          params: AppParams,
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }, { additionalProperties: false }),
          response: { 200: HistorySchema, ...COMMON_ERRORS },
        },
      },
      async (request) => {
        assertAppAccess(request, request.params.app);
        const entries = await appHistory(context.pool, request.params.app, request.query.limit ?? 100);
        return { app: request.params.app, items: entries.map(historyItem) };
      },
    );

    typed.post(
      '/api/v1/apps/:app/rollouts::undo',
      {
        config: {
          access: 'deployer',
          swaggerTransform: ({ schema, url }) => ({ schema, url: url.replace('::', ':') }),
        },
        schema: {
          tags: ['rollouts'],
          summary: 'Undo: start a new rollout of an earlier version, with the waves and analysis it ran with',
          description:
            'Without a body, starts again the newest succeeded rollout of a version other than the newest succeeded one. ' +
            'toRevision names a rollout of the app\'s history; toVersion the newest succeeded rollout of that version. ' +
            'Idempotency-Key and ?supersede work as for POST /api/v1/rollouts.',
          security: [{ bearer: [] }],
          params: AppParams,
          querystring: Type.Object(
            { supersede: Type.Optional(Type.Boolean({ default: false, description: "abort the app's active rollout first" })) },
            { additionalProperties: false },
          ),
          headers: Type.Object({ 'idempotency-key': IdempotencyKeyHeader }),
          body: UndoBodySchema,
          response: { 200: UndoResultSchema, 201: UndoResultSchema, ...COMMON_ERRORS, 409: Problem, 415: Problem, 422: Problem },
        },
      },
      async (request, reply) => {
        const service = requireService(context);
        const { app: name } = request.params;
        assertAppAccess(request, name);
        const key = request.headers['idempotency-key'];
        const result = await undoRollout(context.pool, service, {
          app: name,
          actor: principalOf(request).name,
          ...(request.body.toRevision !== undefined ? { toRevision: request.body.toRevision } : {}),
          ...(request.body.toVersion !== undefined ? { toVersion: request.body.toVersion } : {}),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
          supersede: request.query.supersede ?? false,
        });
        return sendRollout(reply, result, (view) => ({ from: historyItem(result.from), rollout: view }));
      },
    );
  };
}
