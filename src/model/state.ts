/**
 * The state of a rollout as the engine keeps it in PostgreSQL (rollouts.state). It is plain JSON: times are epoch
 * milliseconds, and nothing in it refers to a live object.
 */

/** The actor of every event the engine writes on its own account. */
export const ENGINE_ACTOR = 'oleada';

export const ACTIVE_PHASES = ['pending', 'progressing', 'paused', 'awaiting_approval', 'rolling_back'] as const;
export const TERMINAL_PHASES = ['succeeded', 'rolled_back', 'aborted', 'failed'] as const;

export type ActivePhase = (typeof ACTIVE_PHASES)[number];
export type TerminalPhase = (typeof TERMINAL_PHASES)[number];
export type Phase = ActivePhase | TerminalPhase;

export function isTerminal(phase: Phase): phase is TerminalPhase {
  return (TERMINAL_PHASES as readonly string[]).includes(phase);
}

/**
 * A cluster goes pending -> canary (step by step) -> promoting -> promoted, or, when something fails,
 * -> rolling_back -> rolled_back. `failed` means even the rollback could not be completed: a person must look.
 */
export type ClusterPhase = 'pending' | 'canary' | 'promoting' | 'promoted' | 'rolling_back' | 'rolled_back' | 'failed';

export type WaveStatus = 'pending' | 'awaiting_approval' | 'running' | 'baking' | 'succeeded' | 'rolled_back';

/** The rollout moves forward on its own: waves advance and clusters take their steps. */
export function isAdvancing(phase: Phase): boolean {
  return phase === 'progressing' || phase === 'awaiting_approval';
}

/** The rollout is held, by a person or by its own rollback: a new inconclusive metric need not pause it again. */
export function isHeld(phase: Phase): boolean {
  return phase === 'paused' || phase === 'rolling_back';
}

/** The cluster takes part of the traffic for the new version: a canary, or a stable being promoted. */
export function isInFlight(phase: ClusterPhase): boolean {
  return phase === 'canary' || phase === 'promoting';
}

/** The cluster has the new image on its stable, or is about to: what a rollback must restore from the snapshot. */
export function isPromotedOrPromoting(phase: ClusterPhase): boolean {
  return phase === 'promoting' || phase === 'promoted';
}

/** The cluster is at rest with nothing left to do in its wave. */
export function isSettled(phase: ClusterPhase): boolean {
  return phase === 'promoted' || phase === 'rolled_back';
}

/** The cluster has left the forward path: being undone, undone, or beyond what a rollback could fix. */
export function isWithdrawn(phase: ClusterPhase): boolean {
  return phase === 'rolling_back' || phase === 'rolled_back' || phase === 'failed';
}

/** The cluster carries changes of this rollout that a rollback may have to undo. */
export function isTouched(phase: ClusterPhase): boolean {
  return phase !== 'pending' && phase !== 'rolled_back' && phase !== 'failed';
}

/** The wave has started and not yet ended: a rollback ends it as rolled back. */
export function isWaveOpen(status: WaveStatus): boolean {
  return status === 'running' || status === 'baking' || status === 'awaiting_approval';
}

/** Where a pause returns to on resume: the approval the rollout was waiting for, or plain progress. */
export function resumeTo(phase: Phase): 'progressing' | 'awaiting_approval' {
  return phase === 'awaiting_approval' ? 'awaiting_approval' : 'progressing';
}

export type Verdict = 'successful' | 'failed' | 'inconclusive' | 'error';

export interface MetricState {
  failures: number;
  inconclusives: number;
  consecutiveErrors: number;
  measurements: number;
  lastVerdict?: Verdict;
  lastValue?: number | null;
  lastAt?: number;
  lastError?: string;
}

/** What rollback restores: the stable workload as it was before the rollout touched it. */
export interface Snapshot {
  image: string;
  replicas: number;
  version: string | null;
}

/** What a cluster's calls of one hook (`hooks:` in the rollout file) have told so far. */
export interface HookState {
  /** Calls answered (or timed out) so far. */
  calls: number;
  /** Failed calls of a pre-rollout or rollout hook, counted toward its failureLimit. */
  failures: number;
  /**
   * What the hook has let through: `start` (confirm-rollout, pre-rollout), `step:<i>` (confirm-traffic-increase),
   * `promotion`, `rollback` (a rollback hook's 2xx), `done` (post-rollout called). A 2xx is kept here, so a crash
   * after it does not lose it.
   */
  passed: string | null;
  /** The point a confirm hook was last asked about, so that a hold is told once. */
  askedFor: string | null;
  /** Not called again before this (epoch ms); null: due now. */
  nextCallAt: number | null;
  /** The last answer in words: `answered 503 in 12 ms: closed`, `no answer within 5 s`. */
  lastAnswer: string | null;
}

export interface ClusterState {
  name: string;
  wave: number;
  phase: ClusterPhase;
  /** Index of the current step in the wave's steps, while in canary. */
  step: number;
  stepStartedAt: number | null;
  /** End of a timed pause; null while not pausing or while waiting for promote. */
  pauseUntil: number | null;
  /** Whether the current step is an untimed pause that only a promote ends. */
  awaitingPromote: boolean;
  targetWeight: number;
  actualWeight: number;
  canaryReplicas: number;
  stableReplicas: number;
  snapshot: Snapshot | null;
  analysis: Record<string, MetricState>;
  nextAnalysisAt: number | null;
  /** Since when the cluster has waited for its workload to become ready; the progress deadline counts from here. */
  waitingSince: number | null;
  /** Whether the cluster had been promoted (new image on the stable) when its rollback began. */
  promotedBeforeRollback: boolean;
  /** Consecutive failed reads of this cluster's workload, reset by a clean observation. */
  kubeErrors: number;
  /** Consecutive failed writes, reset when a tick's writes to this cluster all succeed. */
  actionFailures: number;
  /** Since when this cluster's workload could not be read; the progress deadline bounds such an outage too. */
  unreachableSince: number | null;
  lastKubeError: string | null;
  /** A final Kubernetes error from the last tick's writes (403, 422...): the next decision fails the cluster with it. */
  pendingFailure: string | null;
  reason: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** By hook name; absent until the rollout's first hook call for this cluster (and in states stored before hooks). */
  hooks?: Record<string, HookState>;
}

export interface WaveState {
  name: string;
  status: WaveStatus;
  approvedBy: string | null;
  startedAt: number | null;
  bakeUntil: number | null;
  finishedAt: number | null;
}

export type PauseKind = 'user' | 'inconclusive' | 'cluster_failed';

export interface PauseState {
  kind: PauseKind;
  actor: string;
  reason: string;
  at: number;
  /** The phase to return to on resume. */
  resumeTo: 'progressing' | 'awaiting_approval';
}

export interface RolloutState {
  phase: Phase;
  /** Why the last phase transition happened, in words a person can act on. */
  reason: string;
  waveIndex: number;
  waves: WaveState[];
  clusters: Record<string, ClusterState>;
  paused: PauseState | null;
  /** Set when the rollout is rolling back: why, and how it will end. */
  rollback: { cause: string; cluster: string | null; endPhase: 'rolled_back' | 'aborted'; actor: string } | null;
  /** The sequence number of the last event written; events are numbered from 1. */
  eventSeq: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** The state of a rollout that has not started: every wave and cluster pending. */
export function initialState(plan: { waves: { name: string; clusters: string[] }[] }, reason = 'created'): RolloutState {
  const clusters: Record<string, ClusterState> = {};
  plan.waves.forEach((wave, index) => {
    for (const name of wave.clusters) {
      clusters[name] = {
        name,
        wave: index,
        phase: 'pending',
        step: 0,
        stepStartedAt: null,
        pauseUntil: null,
        awaitingPromote: false,
        targetWeight: 0,
        actualWeight: 0,
        canaryReplicas: 0,
        stableReplicas: 0,
        snapshot: null,
        analysis: {},
        nextAnalysisAt: null,
        waitingSince: null,
        promotedBeforeRollback: false,
        kubeErrors: 0,
        actionFailures: 0,
        unreachableSince: null,
        lastKubeError: null,
        pendingFailure: null,
        reason: null,
        startedAt: null,
        finishedAt: null,
      };
    }
  });
  return {
    phase: 'pending',
    reason,
    waveIndex: 0,
    waves: plan.waves.map((wave) => ({
      name: wave.name,
      status: 'pending',
      approvedBy: null,
      startedAt: null,
      bakeUntil: null,
      finishedAt: null,
    })),
    clusters,
    paused: null,
    rollback: null,
    eventSeq: 0,
    startedAt: null,
    finishedAt: null,
  };
}
