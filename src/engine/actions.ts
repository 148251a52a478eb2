import type { HeaderMatch } from '../clusters/providers/types.ts';
import type { Snapshot } from '../model/state.ts';

/**
 * What a tick asks of a cluster. Each is a desired-state write, safe to repeat: the engine issues one only when the
 * observed workload or route differs from what the rollout wants, so a step is applied once even when a tick runs
 * twice. Traffic is always a weight in percent; the cluster's provider turns it into pods or route weights.
 */
export type Action =
  /** The canary Deployment with the new image, sized for this weight; it takes no routed traffic yet. */
  | { type: 'ensureCanary'; cluster: string; weight: number; image: string; version: string }
  /** The canary sized for the weight and the routing objects carrying it, with the header route (null: none). */
  | { type: 'setWeight'; cluster: string; weight: number; headerRoute: HeaderMatch[] | null; image: string; version: string }
  | { type: 'promoteStable'; cluster: string; image: string; version: string }
  /** The stable Service selects the new version's pods (routers with their own Services; nothing for replicas). */
  | { type: 'promoteSelector'; cluster: string; version: string }
  /** The user's routing objects back as they were, and the router's own objects gone. */
  | { type: 'finalizeRoute'; cluster: string }
  | { type: 'deleteCanary'; cluster: string }
  | { type: 'restoreStable'; cluster: string; snapshot: Snapshot }
  /** analysis.baseline: deployment (src/clusters/baseline.ts). */
  | { type: 'ensureBaseline'; cluster: string; size: BaselineSize; image: string; stableVersion: string | null }
  | { type: 'deleteBaseline'; cluster: string };

export type ActionResult = { action: Action; ok: true } | { action: Action; ok: false; kind: 'retryable' | 'conflict' | 'final'; message: string };

/**
 * The baseline's size: the canary's as observed, or, when the canary is written in the same tick, the size its provider
 * gives this weight next to the stable's pods (so both sides start together and their pods are as old).
 */
export type BaselineSize = { replicas: number } | { weight: number; stableReplicas: number };

/** What decide asks the tick to call: one hook for one cluster, about one point (HookState.passed). */
export interface HookCall {
  cluster: string;
  hook: string;
  key: string;
}

/** A call's outcome as the tick saw it. `status` null: no answer (timeout, refused, not allowed). */
export interface HookAnswer {
  call: HookCall;
  status: number | null;
  durationMs: number;
  /** The start of the answer's body, trimmed for events. */
  body: string;
  error: string | null;
}
