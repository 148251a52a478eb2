import { AsyncLocalStorage } from 'node:async_hooks';

/*
 * The fence around Kubernetes writes. A tick runs its writes inside `runFenced`, and the client asks the fence before
 * each write (src/clusters/client.ts): once when the write has its rate-limit token (`check`, a database round trip
 * that proves the tick still holds its rollout's lease and renews it), and again just before the request goes on the
 * wire (`mayStillSend`, a clock reading), because the process may have stalled in between. Carried implicitly, like
 * the urgency, so that the traffic providers call the same client functions and inherit the fence without knowing.
 */
export interface WriteFence {
  /** Names the holding in the User-Agent of each fenced write (`<rollout id>/<lease token>`), for clusters' audit logs. */
  readonly label: string;
  /** Resolves when the writer still holds its lease (and has renewed it); rejects with LeaseLostError otherwise. */
  check(): Promise<void>;
  /** Whether the last successful `check` still covers a request sent now. */
  mayStillSend(): boolean;
}

/** The tick no longer holds its rollout's lease: it must stop without writing anything more. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

const fences = new AsyncLocalStorage<WriteFence>();

export function runFenced<T>(fence: WriteFence, fn: () => Promise<T>): Promise<T> {
  return fences.run(fence, fn);
}

/** The fence of the current async context, if the caller runs under one (the engine's ticks always do). */
export function currentFence(): WriteFence | undefined {
  return fences.getStore();
}
