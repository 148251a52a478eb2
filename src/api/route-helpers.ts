/**
 * What several routes share: the engine when this process has one, a rollout the caller may read, and a page of the
 * rollouts the caller may see. The routes read the store directly for these (they only read), and go through the
 * engine's RolloutService for everything that changes a rollout.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RolloutService } from '../engine/rollout-service.ts';
import { RolloutNotFound } from '../errors.ts';
import type { RolloutRecord } from '../model/rollout.ts';
import type { Phase } from '../model/state.ts';
import type { RolloutStatus } from '../model/wire.ts';
import { getRolloutHead, listRolloutsMatching, type RolloutHead, type RolloutPage } from '../store/rollout-reads.ts';
import { assertAppAccess, principalOf } from './auth/access.ts';
import type { ApiContext } from './context.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { ifNoneMatchMatches, listWordEtag, rolloutEtag, rolloutPageEtag } from './live/etag.ts';
import { ApiError } from './problem.ts';
import { toStatusView } from './responses/rollout-status.ts';

export function requireService(context: ApiContext): RolloutService {
  if (!context.service) throw new ApiError(503, 'engine_unavailable', 'this API process runs without the rollout engine; use `oleada serve` or `oleada api`');
  return context.service;
}

/** The rollout's head after checking it exists and the caller may see its app. */
export async function readableHead(context: ApiContext, request: FastifyRequest, id: string): Promise<RolloutHead> {
  const head = await getRolloutHead(context.pool, id);
  if (!head) throw new RolloutNotFound(id);
  assertAppAccess(request, head.app);
  return head;
}

export interface PageRequest {
  app?: string | undefined;
  phase?: Phase | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** One page of rollouts the caller may see, with the link to the next. */
export async function rolloutPage(
  context: ApiContext,
  request: FastifyRequest,
  reply: FastifyReply,
  query: PageRequest,
  basePath: string,
): Promise<{ items: RolloutStatus[]; next: { cursor: string; href: string } | null } | FastifyReply> {
  const principal = principalOf(request);
  if (query.app !== undefined) assertAppAccess(request, query.app);
  const limit = query.limit ?? 50;
  const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
  // A dashboard polls its list: while the change feed vouches for where the table stands, an unchanged list is a 304
  // without reading it. The word is taken before the read, so a tag is never newer than its page (list-generation.ts).
  const word = context.listGeneration?.current();
  const wordEtag =
    word !== undefined
      ? listWordEtag(word, [basePath, query.app, query.phase, limit, query.cursor, principal.apps === undefined ? undefined : JSON.stringify(principal.apps)])
      : undefined;
  if (wordEtag !== undefined && ifNoneMatchMatches(request.headers['if-none-match'], wordEtag)) {
    return reply.code(304).header('etag', wordEtag).header('cache-control', 'no-cache').send();
  }
  const result: RolloutPage = await listRolloutsMatching(context.pool, {
    limit,
    ...(query.app !== undefined ? { app: query.app } : {}),
    ...(query.phase !== undefined ? { phase: query.phase } : {}),
    ...(principal.apps !== undefined ? { appGlobs: principal.apps } : {}),
    ...(after !== undefined ? { after } : {}),
  });
  let next = null;
  if (result.next) {
    const cursor = encodeCursor(result.next);
    const params = new URLSearchParams();
    if (query.app !== undefined && !basePath.startsWith('/api/v1/apps/')) params.set('app', query.app);
    if (query.phase !== undefined) params.set('phase', query.phase);
    params.set('limit', String(limit));
    params.set('cursor', cursor);
    next = { cursor, href: `${basePath}?${params.toString()}` };
  }
  // Without the feed, the tag hashes the page's rows: an unchanged page is a 304 before any status is built.
  const etag = wordEtag ?? rolloutPageEtag(result.items, next?.cursor ?? null);
  reply.header('etag', etag).header('cache-control', 'no-cache');
  if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  return { items: result.items.map(toStatusView), next };
}

/** A rollout just created (201), or found again by its Idempotency-Key (200), with its Location and ETag. */
export function sendRollout(reply: FastifyReply, result: { rollout: RolloutRecord; created: boolean }, body: (view: RolloutStatus) => unknown = (view) => view): FastifyReply {
  const view = toStatusView(result.rollout);
  return reply
    .code(result.created ? 201 : 200)
    .header('location', view.links.self)
    .header('etag', rolloutEtag(result.rollout.version))
    .send(body(view));
}
