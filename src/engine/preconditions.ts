/**
 * The revision precondition of commands: a client that acted on what it saw (a dashboard button, `--if-revision`)
 * says which revision that was, and the command is refused when the rollout has moved on since.
 */
import { RevisionStale } from '../errors.ts';
import type { Phase } from '../model/state.ts';

/** The refusal of a command meant for revision `expected` of a rollout that is now at `current`; nothing was stored. */
export function revisionStale(rolloutId: string, current: { phase: Phase; revision: number }, expected: number | null): RevisionStale {
  return new RevisionStale(
    `rollout ${rolloutId} is at revision ${current.revision} (${current.phase})` +
      `${expected === null ? '' : `, not ${expected}`}; read its status again and decide on what it shows now`,
    { rolloutId, phase: current.phase, revision: current.revision, ...(expected === null ? {} : { expectedRevision: expected }) },
  );
}
