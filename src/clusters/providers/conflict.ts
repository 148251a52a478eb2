import { KubeError } from '../errors.ts';

/** How many times a write is tried when someone else changed the object between our read and our write. */
const CONFLICT_ATTEMPTS = 4;

/** A conflict means our read went stale; `attempt` reads again (retry is true) and recomputes its write. */
export async function retryOnConflict(attempt: (retry: boolean) => Promise<void>): Promise<void> {
  for (let n = 1; ; n++) {
    try {
      await attempt(n > 1);
      return;
    } catch (err) {
      if (!(err instanceof KubeError) || err.kind !== 'conflict' || n >= CONFLICT_ATTEMPTS) throw err;
    }
  }
}
