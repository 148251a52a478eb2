import type { RangeSample } from '../analysis/prometheus.ts';
import type { ClusterObservation } from '../clusters/providers/types.ts';
import type { Plan } from '../spec/plan.ts';
import type { CommandArgs, CommandType } from '../model/commands.ts';
import { isInFlight, type ClusterState, type RolloutState } from '../model/state.ts';

/** A Kubernetes error as the engine sees it: whether trying again can help, and what a person should read. */
export interface ObservedKubeError {
  kind: 'retryable' | 'conflict' | 'final';
  message: string;
}

export type WorkloadResult = { ok: true; workload: ClusterObservation } | { ok: false; error: ObservedKubeError };

export type MeasurementResult =
  | { kind: 'value'; value: number }
  | { kind: 'empty' }
  | { kind: 'error'; message: string }
  /** A judged metric: both sides over the last interval. */
  | { kind: 'series'; canary: RangeSample[]; baseline: RangeSample[]; baselineQuery: string };

export interface Measurement {
  cluster: string;
  metric: string;
  query: string;
  result: MeasurementResult;
  at: number;
}

export interface PendingCommand {
  id: number;
  type: CommandType;
  args: CommandArgs;
  actor: string;
  reason: string | null;
}

/** Everything a tick learned from the outside world before deciding. Only what `needs` asked for is present. */
export interface Observations {
  workloads: Record<string, WorkloadResult>;
  measurements: Measurement[];
  commands: PendingCommand[];
}

export interface MetricQuery {
  cluster: string;
  metric: string;
}

/** What a tick must observe: the workloads of the clusters that are moving, and the analysis that is due. */
export interface Needs {
  workloads: string[];
  metrics: MetricQuery[];
}

const MOVING = new Set<ClusterState['phase']>(['canary', 'promoting', 'rolling_back']);

/** Whether a cluster's analysis runs now: while it holds canary traffic, and while its wave bakes. */
export function analysing(plan: Plan, state: RolloutState, cluster: ClusterState): boolean {
  if (!plan.analysis || plan.analysis.metrics.length === 0) return false;
  if (cluster.phase === 'canary') return cluster.actualWeight > 0;
  if (cluster.phase === 'promoting') return true;
  if (cluster.phase === 'promoted') return state.waves[cluster.wave]?.status === 'baking';
  return false;
}

/** The pending clusters of the current wave that may start now, within maxParallel. */
export function clustersToStart(plan: Plan, state: RolloutState): string[] {
  if (state.phase !== 'progressing' && state.phase !== 'pending') return [];
  const wave = plan.waves[state.waveIndex];
  const waveState = state.waves[state.waveIndex];
  if (!wave || !waveState || waveState.status !== 'running') return [];
  const members = wave.clusters.map((name) => state.clusters[name]).filter((c): c is ClusterState => c !== undefined);
  const inFlight = members.filter((c) => isInFlight(c.phase)).length;
  const room = Math.max(0, wave.maxParallel - inFlight);
  return members.filter((c) => c.phase === 'pending').slice(0, room).map((c) => c.name);
}

/**
 * How early an analysis may run: a tenth of the interval, at most 1 s. A tick that measures one cluster then also
 * measures the clusters due just after it, so a wave's clusters share their ticks instead of waking one by one.
 */
export function analysisSlackMs(intervalMs: number): number {
  return Math.min(1000, Math.floor(intervalMs / 10));
}

/** Whether a cluster's next analysis is due at `now`, counting the slack. */
export function analysisDue(plan: Plan, state: RolloutState, cluster: ClusterState, now: number): boolean {
  if (!analysing(plan, state, cluster) || cluster.nextAnalysisAt === null) return false;
  return cluster.nextAnalysisAt <= now + analysisSlackMs(plan.analysis?.intervalMs ?? 0);
}

/** Whether a metric's initialDelay, counted from the cluster's start, has not passed yet. */
export function warmingUp(initialDelayMs: number | undefined, cluster: ClusterState, now: number): boolean {
  return initialDelayMs !== undefined && cluster.startedAt !== null && now < cluster.startedAt + initialDelayMs;
}

export function needs(plan: Plan, state: RolloutState, now: number): Needs {
  const workloads = new Set<string>();
  const metrics: MetricQuery[] = [];
  for (const cluster of Object.values(state.clusters)) {
    if (MOVING.has(cluster.phase)) workloads.add(cluster.name);
    if (analysisDue(plan, state, cluster, now)) {
      for (const metric of plan.analysis?.metrics ?? []) {
        if (warmingUp(metric.initialDelayMs, cluster, now)) continue;
        metrics.push({ cluster: cluster.name, metric: metric.name });
      }
    }
  }
  for (const name of clustersToStart(plan, state)) workloads.add(name);
  return { workloads: [...workloads], metrics };
}
