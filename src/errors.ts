/** Turns any thrown value into an Error, keeping the original as `cause` when it was not one already. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  const message = typeof value === 'string' ? value : safeStringify(value);
  return new Error(message, { cause: value });
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/**
 * Something a caller asked for cannot be done, named for what happened: a stable `code`, a message that says what to
 * do next, and details. Domain errors know nothing of HTTP; api/problem.ts maps each class to a status in one table,
 * so the same problem reads the same whichever layer found it.
 */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class RolloutNotFound extends DomainError {
  override name = 'RolloutNotFound';
  constructor(id: string) {
    super('rollout_not_found', `there is no rollout ${id}; list rollouts with \`oleada rollout list\` or GET /api/v1/rollouts`, { rolloutId: id });
  }
}

/** A rollout file that fails validation or plan resolution; `errors` gives each problem's JSON pointer. */
export class SpecInvalid extends DomainError {
  override name = 'SpecInvalid';
  constructor(errors: { path: string; message: string }[]) {
    super('spec_invalid', `the rollout file is invalid: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`, { errors });
  }
}

/** A command that does not fit the rollout's phase (approve while no wave waits, anything after the end...). */
export class CommandNotApplicable extends DomainError {
  override name = 'CommandNotApplicable';
  constructor(message: string, details: Record<string, unknown> = {}) { super('command_not_applicable', message, details); }
}

/** A command that names a cluster or wave the rollout does not have. */
export class CommandTargetUnknown extends DomainError {
  override name = 'CommandTargetUnknown';
  constructor(code: 'cluster_not_in_rollout' | 'wave_not_in_rollout', message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}

/** The app already has a rollout that has not ended; only one may be active per app. */
export class ActiveRolloutExists extends DomainError {
  override name = 'ActiveRolloutExists';
  constructor(message: string, activeRolloutId: string | null) {
    super('active_rollout_exists', message, { activeRolloutId });
  }
}

/** An Idempotency-Key reused with a different request. */
export class IdempotencyMismatch extends DomainError {
  override name = 'IdempotencyMismatch';
  constructor(message: string, details: Record<string, unknown> = {}) { super('idempotency_mismatch', message, details); }
}

/** A command made against a revision of the rollout that is no longer the current one. */
export class RevisionStale extends DomainError {
  override name = 'RevisionStale';
  constructor(message: string, details: { revision: number; phase: string } & Record<string, unknown>) {
    super('revision_stale', message, details);
  }
}

/** A cluster named in a request or a rollout that the clusters file does not list. */
export class UnknownCluster extends DomainError {
  override name = 'UnknownCluster';
  constructor(message: string, details: Record<string, unknown> = {}) { super('unknown_cluster', message, details); }
}
