/**
 * Idempotency-Key on command routes. CI systems retry HTTP calls and people double-click; with a key, a command is
 * carried out once per caller and key, and every repeat of the same request gets the first answer, refusals included.
 * The same key with a different request is a 422. A request that failed on our side (5xx) frees its key, so a retry
 * can still succeed.
 */
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { canonicalHash } from '../engine/rollout-service.ts';
import { DomainError, IdempotencyMismatch } from '../errors.ts';
import { completeKey, releaseKey, reserveKey } from '../store/idempotency.ts';
import type { Pool } from '../store/pool.ts';
import { principalOf } from './auth/access.ts';
import { ApiError, problemStatus } from './problem.ts';

export const IdempotencyKeyHeader = Type.Optional(
  Type.String({
    pattern: '^[\\x21-\\x7e]{1,255}$',
    description: 'a key of your choosing (a UUID is fine): repeats of the request with this key act once and get the first answer',
  }),
);

/** The key was used before for another request; nothing was done. */
function keyReused(key: string): IdempotencyMismatch {
  return new IdempotencyMismatch(`Idempotency-Key "${key}" was already used for a different request; send a new key for a new command`, { idempotencyKey: key });
}

export interface Answer {
  status: number;
  body: unknown;
  /** The command the answer stored, so a replay can show it as it is now (applied or not). */
  commandId: number | null;
}

interface StoredProblem {
  code: string;
  detail: string;
  details: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Whether the answer is the replay of an earlier request with the same Idempotency-Key. */
    idempotentReplay?: boolean;
  }
}

export interface IdempotentOptions {
  pool: Pool;
  rolloutId: string | null;
  /** Re-reads the body of a stored success (for instance the command with its outcome); default: the stored body. */
  fresh?: (answer: Answer) => Promise<unknown>;
}

/** Runs `act` once per caller and Idempotency-Key, and answers repeats with its first answer. */
export async function idempotent(request: FastifyRequest, reply: FastifyReply, options: IdempotentOptions, act: () => Promise<Answer>): Promise<FastifyReply> {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string') {
    const answer = await act();
    return reply.code(answer.status).send(answer.body);
  }
  const actor = principalOf(request).name;
  const requestHash = canonicalHash({ method: request.method, url: request.url, ifMatch: request.headers['if-match'] ?? null, body: request.body ?? null });
  const stored = await reserveKey(options.pool, { actor, key, requestHash, rolloutId: options.rolloutId });
  if (stored) {
    if (stored.requestHash !== requestHash) throw keyReused(key);
    if (stored.status === 0) {
      throw new ApiError(409, 'idempotency_in_progress', `a request with Idempotency-Key "${key}" is still running; send it again in a moment`);
    }
    request.idempotentReplay = true;
    reply.header('idempotent-replayed', 'true');
    if (stored.status >= 400) {
      const problem = stored.body as StoredProblem;
      throw new ApiError(stored.status, problem.code, problem.detail, problem.details);
    }
    const body = options.fresh ? await options.fresh({ status: stored.status, body: stored.body, commandId: stored.commandId }) : stored.body;
    return reply.code(stored.status).send(body);
  }
  let answer: Answer;
  try {
    answer = await act();
  } catch (err) {
    const status = problemStatus(err);
    if (err instanceof DomainError && status !== undefined && status < 500) {
      const problem: StoredProblem = { code: err.code, detail: err.message, details: err.details };
      await completeKey(options.pool, actor, key, { status, body: problem, commandId: null });
    } else {
      await releaseKey(options.pool, actor, key).catch(() => {});
    }
    throw err;
  }
  await completeKey(options.pool, actor, key, answer);
  return reply.code(answer.status).send(answer.body);
}
