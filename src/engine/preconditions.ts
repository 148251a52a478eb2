/**
 * The revision precondition of commands: a client that acted on what it saw (a dashboard button, `--if-revision`)
 * says which revision that was, and the command is refused when the rollout has moved on since.
 */
import { DomainError } from '../errors.ts';
import type { Phase } from '../model/state.ts';

/** The rollout is no longer at the revision the command was meant for; nothing was stored. */
export class RevisionStale extends DomainError {
  override name = 'RevisionStale';
  constructor(
    readonly rolloutId: string,
    readonly current: { phase: Phase; revision: number },
    expected: number | null,
  ) {
    super(
      412,
      'revision_stale',
      `rollout ${rolloutId} is at revision ${current.revision} (${current.phase})` +
        `${expected === null ? '' : `, not ${expected}`}; read its status again and decide on what it shows now`,
      { rolloutId, phase: current.phase, revision: current.revision, ...(expected === null ? {} : { expectedRevision: expected }) },
    );
  }
}
