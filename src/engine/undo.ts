/**
 * "Put back what ran before": a new rollout of an earlier version, with the waves, steps and analysis that version was
 * rolled out with. History is data, so an undo is an ordinary rollout made from a stored file; nothing is rewritten.
 */
import { DomainError } from '../errors.ts';
import { appHistory, type HistoryEntry } from '../store/history.ts';
import type { Pool } from '../store/pool.ts';
import type { CreateResult, RolloutService } from './rollout-service.ts';

export interface UndoRequest {
  app: string;
  actor: string;
  /** Start again the rollout with this number in the app's history. */
  toRevision?: number;
  /** Start again the newest succeeded rollout of this version. */
  toVersion?: string;
  idempotencyKey?: string;
  supersede?: boolean;
}

export interface UndoOutcome extends CreateResult {
  /** The past rollout whose file the new one was made from. */
  from: HistoryEntry;
}

/** There is no earlier rollout to go back to, or not the one asked for. */
export class UndoTargetMissing extends DomainError {
  override name = 'UndoTargetMissing';
  constructor(app: string, message: string) {
    super('undo_target_missing', message, { app });
  }
}

/** Which past rollout an undo starts again. Without a target: the newest succeeded one of another version than now. */
export function undoTarget(history: HistoryEntry[], request: Pick<UndoRequest, 'app' | 'toRevision' | 'toVersion'>): HistoryEntry {
  const { app } = request;
  if (history.length === 0) throw new UndoTargetMissing(app, `${app} has no rollouts yet; there is nothing to undo`);
  if (request.toRevision !== undefined) {
    const entry = history.find((h) => h.revision === request.toRevision);
    if (!entry) throw new UndoTargetMissing(app, `${app} has no revision ${request.toRevision} (it has 1 to ${history[0]!.revision}); see \`oleada rollout history ${app}\``);
    return entry;
  }
  const succeeded = history.filter((h) => h.phase === 'succeeded');
  if (request.toVersion !== undefined) {
    const entry = succeeded.find((h) => h.spec.version === request.toVersion);
    if (!entry) {
      const versions = [...new Set(succeeded.map((h) => h.spec.version))].slice(0, 10);
      throw new UndoTargetMissing(
        app,
        `no rollout of ${app} ${request.toVersion} has succeeded${versions.length > 0 ? ` (succeeded: ${versions.join(', ')})` : ''}; name another version or use --to-revision`,
      );
    }
    return entry;
  }
  const current = succeeded[0];
  const previous = current && succeeded.find((h) => h.spec.version !== current.spec.version);
  if (!current || !previous) {
    throw new UndoTargetMissing(app, `${app} has no succeeded rollout of an earlier version to go back to; name one with --to-revision`);
  }
  return previous;
}

export async function undoRollout(pool: Pool, service: RolloutService, request: UndoRequest): Promise<UndoOutcome> {
  const from = undoTarget(await appHistory(pool, request.app), request);
  const result = await service.create({
    input: from.spec,
    actor: request.actor,
    ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
    supersede: request.supersede ?? false,
  });
  return { ...result, from };
}
