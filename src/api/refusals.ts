/**
 * Records every command the API refuses (role, app, stale revision, a command that does not fit the phase, an invalid
 * request) with who asked and why, in the append-only refused_commands table. A hook on the answer rather than a call
 * in each handler, because the role is refused before any handler runs.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toError } from '../errors.ts';
import { isRolloutId } from '../store/rollout-reads.ts';
import { recordRefusal } from '../store/refusals.ts';
import type { Pool } from '../store/pool.ts';

/** 401 is left out: without a known token there is no actor, and anyone could fill the table. 429 is only load. */
const RECORDED = new Set([400, 403, 404, 409, 412, 415, 422]);

export function refusalRecorder(pool: Pool, commandOf: (request: FastifyRequest) => string) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const principal = request.principal;
    if (!RECORDED.has(reply.statusCode) || !principal || request.idempotentReplay) return payload;
    let code = 'refused';
    let reason = `answered ${reply.statusCode}`;
    if (typeof payload === 'string') {
      try {
        const problem = JSON.parse(payload) as { code?: unknown; detail?: unknown };
        if (typeof problem.code === 'string') code = problem.code;
        if (typeof problem.detail === 'string') reason = problem.detail;
      } catch {
        // Not a problem+json body: keep the status as the reason.
      }
    }
    const params = (request.params ?? {}) as { id?: string; app?: string };
    try {
      await recordRefusal(pool, {
        rolloutId: params.id !== undefined && isRolloutId(params.id) ? params.id : null,
        app: params.app ?? null,
        command: commandOf(request),
        actor: principal.name,
        status: reply.statusCode,
        code,
        reason,
      });
    } catch (err) {
      // The refusal stands either way; losing its record must not turn a 4xx into a 5xx.
      request.log.error({ err: toError(err) }, 'cannot record a refused command');
    }
    return payload;
  };
}
