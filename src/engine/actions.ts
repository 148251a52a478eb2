import type { Snapshot } from '../model/state.ts';

/**
 * What a tick asks of a cluster. Each is a desired-state write, safe to repeat: the engine issues one only when the
 * observed workload differs from what the rollout wants, so a step is applied once even when a tick runs twice.
 */
export type Action =
  | { type: 'ensureCanary'; cluster: string; replicas: number; image: string; version: string }
  | { type: 'promoteStable'; cluster: string; image: string; version: string }
  | { type: 'deleteCanary'; cluster: string }
  | { type: 'restoreStable'; cluster: string; snapshot: Snapshot }
  /** analysis.baseline: deployment (src/clusters/baseline.ts). */
  | { type: 'ensureBaseline'; cluster: string; replicas: number; image: string; stableVersion: string | null }
  | { type: 'deleteBaseline'; cluster: string };

export type ActionResult = { action: Action; ok: true } | { action: Action; ok: false; kind: 'retryable' | 'conflict' | 'final'; message: string };
