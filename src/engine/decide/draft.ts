/** The working set of one decision, shared by every section of the rule book. */
import type { ClusterObservation } from '../../clusters/providers/types.ts';
import type { CommandOutcome } from '../../model/commands.ts';
import type { NewEvent } from '../../model/events.ts';
import type { StoredJudgement } from '../../analysis/stored-judgement.ts';
import type { AnalysisSample } from '../../model/samples.ts';
import { ENGINE_ACTOR as ENGINE, isTerminal, type ClusterState, type RolloutState } from '../../model/state.ts';
import type { Plan } from '../../spec/plan.ts';
import type { Action, HookCall } from '../actions.ts';
import type { Observations } from '../observations.ts';

/** How often a tick looks again while a workload is rolling out. */
export const READINESS_POLL_MS = 500;

/** The longest a cluster waits between retries after Kubernetes errors. */
const MAX_KUBE_BACKOFF_MS = 10_000;

/** How long to wait after `failures` Kubernetes errors in a row: doubling from 500 ms, at most 10 s. */
export function kubeBackoffMs(failures: number): number {
  return Math.min(MAX_KUBE_BACKOFF_MS, 250 * 2 ** Math.min(failures, 6));
}

/** Whether the n-th repeat of the same trouble gets an event: the first and every tenth, so the log stays readable. */
export function worthTelling(repeat: number): boolean {
  return repeat === 1 || repeat % 10 === 0;
}

export interface Decision {
  state: RolloutState;
  actions: Action[];
  events: NewEvent[];
  samples: AnalysisSample[];
  /** The baseline comparisons made in this decision, one per cluster that had judged metrics due. */
  judgements: StoredJudgement[];
  commandOutcomes: CommandOutcome[];
  /** The hooks the tick is to call now (src/engine/decide/hooks.ts); their answers come back through recordHookAnswers. */
  hookCalls: HookCall[];
  /** When the rollout wants its next tick (epoch ms), or null when only a command can move it. */
  wakeAt: number | null;
}

/** The working set of one decision: a draft of the state and what the decision has produced so far. */
export class Draft {
  readonly actions: Action[] = [];
  readonly events: NewEvent[] = [];
  readonly samples: AnalysisSample[] = [];
  readonly commandOutcomes: CommandOutcome[] = [];
  readonly hookCalls: HookCall[] = [];
  /** This decision's judgements by cluster. */
  judgements = new Map<string, StoredJudgement>();
  private readonly wakes: number[] = [];

  constructor(
    readonly plan: Plan,
    readonly state: RolloutState,
    readonly observations: Observations,
    readonly now: number,
  ) {}

  event(type: string, message: string, extra: { cluster?: string; wave?: string | null; actor?: string; data?: Record<string, unknown> } = {}): void {
    const cluster = extra.cluster !== undefined ? this.state.clusters[extra.cluster] : undefined;
    const wave = extra.wave !== undefined ? extra.wave : cluster ? (this.plan.waves[cluster.wave]?.name ?? null) : null;
    this.state.eventSeq += 1;
    this.events.push({
      seq: this.state.eventSeq,
      time: new Date(this.now),
      type,
      wave,
      cluster: extra.cluster ?? null,
      actor: extra.actor ?? ENGINE,
      message,
      data: extra.data ?? {},
    });
  }

  wake(at: number): void {
    this.wakes.push(at);
  }

  wakeAt(): number | null {
    if (isTerminal(this.state.phase) || this.wakes.length === 0) return null;
    return Math.max(this.now, Math.min(...this.wakes));
  }

  workload(cluster: string): ClusterObservation | undefined {
    const result = this.observations.workloads[cluster];
    return result?.ok ? result.workload : undefined;
  }

  finish(): Decision {
    return {
      state: this.state,
      actions: this.actions,
      events: this.events,
      samples: this.samples,
      judgements: [...this.judgements.values()],
      commandOutcomes: this.commandOutcomes,
      hookCalls: this.hookCalls,
      wakeAt: this.wakeAt(),
    };
  }
}

/** A cluster at rest: all of its traffic on one version, no canary left, nothing to wait for. */
export function settle(draft: Draft, cluster: ClusterState, phase: 'promoted' | 'rolled_back', weight: 0 | 100): void {
  cluster.phase = phase;
  cluster.targetWeight = weight;
  cluster.actualWeight = weight;
  cluster.canaryReplicas = 0;
  cluster.waitingSince = null;
  cluster.finishedAt = draft.now;
}
