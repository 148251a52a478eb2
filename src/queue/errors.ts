/**
 * What a job handler throws to tell the worker what to do next, as BullMQ separates them. Any other error is retried
 * with the job's backoff until its attempts run out.
 */

/** The job can never succeed (a payload that fails its schema, a rollout that no longer exists): fail it now. */
export class FinalJobError extends Error {
  override name = 'FinalJobError';
}

/** Not now, but soon (another process holds the rollout's lease): put the job back for `delayMs`, without an attempt. */
export class DelayJobError extends Error {
  override name = 'DelayJobError';
  constructor(
    readonly delayMs: number,
    message = `delayed by ${delayMs} ms`,
  ) {
    super(message);
  }
}
