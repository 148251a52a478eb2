import type { DeploymentView, WorkloadObservation } from '../clusters/workload.ts';
import { judgeThreshold } from '../analysis/judge.ts';
import { recordMeasurement } from '../analysis/measure.ts';
import type { Plan, Step } from '../spec/plan.ts';
import { formatDuration } from '../spec/duration.ts';
import type { CommandOutcome } from '../model/commands.ts';
import type { NewEvent } from '../model/events.ts';
import type { AnalysisSample } from '../model/samples.ts';
import { assertNever } from '../errors.ts';
import type { Action, ActionResult } from './actions.ts';
import { commandProblem } from './commands.ts';
import { analysing, analysisDue, clustersToStart, type Measurement, type Observations, type PendingCommand } from './observations.ts';
import { ENGINE_ACTOR as ENGINE, isTerminal, type ClusterState, type MetricState, type RolloutState, type Verdict } from '../model/state.ts';
import { actualWeight, canaryReplicasFor } from './weights.ts';

/** How often a tick looks again while a workload is rolling out. */
export const READINESS_POLL_MS = 500;
/** The longest a cluster waits between retries after Kubernetes errors. */
const MAX_KUBE_BACKOFF_MS = 10_000;

export interface Decision {
  state: RolloutState;
  actions: Action[];
  events: NewEvent[];
  samples: AnalysisSample[];
  commandOutcomes: CommandOutcome[];
  /** When the rollout wants its next tick (epoch ms), or null when only a command can move it. */
  wakeAt: number | null;
}

/** The working set of one decision: a draft of the state and what the decision has produced so far. */
class Draft {
  readonly actions: Action[] = [];
  readonly events: NewEvent[] = [];
  readonly samples: AnalysisSample[] = [];
  readonly commandOutcomes: CommandOutcome[] = [];
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

  workload(cluster: string): WorkloadObservation | undefined {
    const result = this.observations.workloads[cluster];
    return result?.ok ? result.workload : undefined;
  }
}

/**
 * The engine's one rule book. Given the plan, the state, what was just observed and the time, it returns the next
 * state, the Kubernetes writes to make, the events to record and when to look again. It does no I/O, so every rule
 * (step order, wave order, maxParallel, approval gates, bake, analysis verdicts, rollback scope and commands) is
 * tested without a cluster.
 */
export function decide(plan: Plan, state: RolloutState, observations: Observations, now: number): Decision {
  const draft = new Draft(plan, structuredClone(state), observations, now);
  const s = draft.state;

  if (isTerminal(s.phase)) {
    for (const command of observations.commands) reject(draft, command, `the rollout has already ended (${s.phase})`);
    return finish(draft);
  }
  if (s.phase === 'pending') start(draft);

  for (const command of observations.commands) applyCommand(draft, command);
  for (const name of Object.keys(s.clusters)) observeCluster(draft, name);
  for (const measurement of observations.measurements) measure(draft, measurement);

  if (s.phase !== 'rolling_back' && !isTerminal(s.phase)) {
    for (const cluster of Object.values(s.clusters)) advanceCluster(draft, cluster);
  }
  // Clusters that failed, even earlier in this very tick, are undone now rather than one tick later. With scope
  // `cluster` this happens while the rest of the rollout is paused.
  for (const cluster of Object.values(s.clusters)) reconcileRollback(draft, cluster);
  if (s.phase === 'rolling_back') finishRollback(draft);
  else advanceWaves(draft);
  scheduleAnalysis(draft);
  return finish(draft);
}

function finish(draft: Draft): Decision {
  return {
    state: draft.state,
    actions: draft.actions,
    events: draft.events,
    samples: draft.samples,
    commandOutcomes: draft.commandOutcomes,
    wakeAt: draft.wakeAt(),
  };
}

// --- phases ------------------------------------------------------------------------------------------------------

function setPhase(draft: Draft, phase: RolloutState['phase'], reason: string, actor = ENGINE): void {
  const s = draft.state;
  if (s.phase === phase && s.reason === reason) return;
  const from = s.phase;
  s.phase = phase;
  s.reason = reason;
  if (isTerminal(phase)) s.finishedAt = draft.now;
  draft.event(`rollout.${phase}`, reason, { actor, wave: null, data: { from } });
}

function start(draft: Draft): void {
  draft.state.startedAt = draft.now;
  setPhase(draft, 'progressing', `rolling out ${draft.plan.version} to ${draft.plan.waves.length} wave(s)`);
  draft.wake(draft.now);
}

// --- commands ----------------------------------------------------------------------------------------------------

function reject(draft: Draft, command: PendingCommand, message: string): void {
  draft.commandOutcomes.push({ id: command.id, outcome: 'rejected', message });
  draft.event('command.rejected', `${command.type} by ${command.actor} rejected: ${message}`, {
    actor: command.actor,
    wave: null,
    data: { command: command.id, type: command.type },
  });
}

function accept(draft: Draft, command: PendingCommand, message: string): void {
  draft.commandOutcomes.push({ id: command.id, outcome: 'applied', message });
  draft.event('command.applied', message, {
    actor: command.actor,
    wave: null,
    data: { command: command.id, type: command.type, args: command.args, reason: command.reason },
  });
}

function applyCommand(draft: Draft, command: PendingCommand): void {
  const s = draft.state;
  const problem = commandProblem(draft.plan, s, command.type, command.args);
  if (problem) return reject(draft, command, problem.message);
  const because = command.reason ? `: ${command.reason}` : '';
  draft.wake(draft.now);

  switch (command.type) {
    case 'promote': {
      const targets = Object.values(s.clusters).filter(
        (c) => c.phase === 'canary' && (command.args.cluster === undefined || c.name === command.args.cluster),
      );
      for (const cluster of targets) {
        if (command.args.full) {
          enterPromoting(draft, cluster, `promoted fully by ${command.actor}${because}`);
        } else {
          nextStep(draft, cluster, `step ${cluster.step + 1} skipped by ${command.actor}${because}`);
        }
      }
      if (s.phase === 'paused') resumeFromPause(draft, command.actor);
      accept(draft, command, `${command.actor} promoted ${targets.map((c) => c.name).join(', ')}${command.args.full ? ' fully' : ''}${because}`);
      return;
    }
    case 'approve': {
      const wave = s.waves[s.waveIndex]!;
      wave.approvedBy = command.actor;
      accept(draft, command, `${command.actor} approved wave ${wave.name}${because}`);
      return;
    }
    case 'pause': {
      s.paused = {
        kind: 'user',
        actor: command.actor,
        reason: command.reason ?? 'paused by a person',
        at: draft.now,
        resumeTo: s.phase === 'awaiting_approval' ? 'awaiting_approval' : 'progressing',
      };
      accept(draft, command, `${command.actor} paused the rollout${because}`);
      setPhase(draft, 'paused', `paused by ${command.actor}${because}`, command.actor);
      return;
    }
    case 'resume': {
      accept(draft, command, `${command.actor} resumed the rollout${because}`);
      resumeFromPause(draft, command.actor);
      return;
    }
    case 'abort': {
      accept(draft, command, `${command.actor} aborted the rollout${because}`);
      beginRollback(draft, {
        cause: `aborted by ${command.actor}${because}`,
        cluster: null,
        endPhase: 'aborted',
        actor: command.actor,
      });
      return;
    }
    case 'retry':
      return reject(draft, command, 'retry is not supported; create a new rollout');
    default:
      return assertNever(command.type, 'command');
  }
}

function resumeFromPause(draft: Draft, actor: string): void {
  const s = draft.state;
  const paused = s.paused;
  if (!paused) return;
  if (paused.kind === 'inconclusive') {
    // A person looked at the inconclusive metrics and chose to go on: count them afresh.
    for (const cluster of Object.values(s.clusters)) {
      for (const metric of Object.values(cluster.analysis)) metric.inconclusives = 0;
    }
  }
  s.paused = null;
  setPhase(draft, paused.resumeTo, `resumed by ${actor}`, actor);
}

// --- observing -----------------------------------------------------------------------------------------------------

function observeCluster(draft: Draft, name: string): void {
  const cluster = draft.state.clusters[name]!;
  if (cluster.pendingFailure !== null) {
    const failure = cluster.pendingFailure;
    cluster.pendingFailure = null;
    failCluster(draft, cluster, failure);
  }
  const result = draft.observations.workloads[name];
  if (!result) return;
  if (!result.ok) {
    cluster.kubeErrors += 1;
    cluster.unreachableSince ??= draft.now;
    cluster.lastKubeError = result.error.message;
    if (cluster.kubeErrors === 1 || cluster.kubeErrors % 10 === 0) {
      draft.event('cluster.kube_error', `${name}: ${result.error.message} (attempt ${cluster.kubeErrors}; retrying)`, {
        cluster: name,
        data: { kind: result.error.kind },
      });
    }
    if (result.error.kind === 'final' && cluster.phase !== 'pending') {
      failCluster(draft, cluster, result.error.message);
    } else if (cluster.phase !== 'pending' && draft.now - cluster.unreachableSince >= draft.plan.progressDeadlineMs) {
      failCluster(
        draft,
        cluster,
        `the Kubernetes API of ${name} could not be read for the progress deadline ${formatDuration(draft.plan.progressDeadlineMs)} (last error: ${result.error.message})`,
      );
    }
    return;
  }
  if (cluster.unreachableSince !== null) {
    draft.event('cluster.kube_recovered', `${name}: the Kubernetes API answers again after ${formatDuration(draft.now - cluster.unreachableSince)}`, {
      cluster: name,
    });
  }
  cluster.kubeErrors = 0;
  cluster.unreachableSince = null;
  // A failed write keeps its message until a write succeeds: it explains why the workload is not where it should be.
  if (cluster.actionFailures === 0) cluster.lastKubeError = null;
  const { stable, canary } = result.workload;
  if (stable) cluster.stableReplicas = stable.replicas;
  cluster.canaryReplicas = canary?.replicas ?? 0;
}

function kubeBackoff(draft: Draft, cluster: ClusterState): boolean {
  if (cluster.kubeErrors === 0) return false;
  draft.wake(draft.now + Math.min(MAX_KUBE_BACKOFF_MS, 250 * 2 ** Math.min(cluster.kubeErrors, 6)));
  return true;
}

// --- analysis ----------------------------------------------------------------------------------------------------

function emptyMetric(): MetricState {
  return { failures: 0, inconclusives: 0, consecutiveErrors: 0, measurements: 0 };
}

function measure(draft: Draft, measurement: Measurement): void {
  const analysis = draft.plan.analysis;
  const cluster = draft.state.clusters[measurement.cluster];
  const metric = analysis?.metrics.find((m) => m.name === measurement.metric);
  if (!analysis || !cluster || !metric) return;

  const result = measurement.result;
  const verdict: Verdict = result.kind === 'error' ? 'error' : judgeThreshold(result, metric);
  const previous = cluster.analysis[metric.name] ?? emptyMetric();
  const counted = recordMeasurement(previous, verdict, analysis);
  const value = result.kind === 'value' ? result.value : null;
  const next: MetricState = {
    ...counted.counters,
    measurements: previous.measurements + 1,
    lastVerdict: verdict,
    lastValue: value,
    lastAt: measurement.at,
    ...(result.kind === 'error' ? { lastError: result.message } : {}),
  };
  cluster.analysis[metric.name] = next;
  draft.samples.push({
    wave: draft.plan.waves[cluster.wave]?.name ?? null,
    cluster: cluster.name,
    metric: metric.name,
    query: measurement.query,
    value: value !== null && Number.isFinite(value) ? value : null,
    verdict,
    error: result.kind === 'error' ? result.message : null,
    measuredAt: new Date(measurement.at),
  });

  const bounds = [metric.min !== undefined ? `min ${metric.min}` : '', metric.max !== undefined ? `max ${metric.max}` : '']
    .filter(Boolean)
    .join(', ');
  const shown = result.kind === 'value' ? String(round(result.value)) : result.kind === 'empty' ? 'no data' : `error: ${result.message}`;
  if (verdict !== 'successful' || next.measurements === 1) {
    draft.event(`analysis.${verdict}`, `${cluster.name}: ${metric.name} = ${shown} (${bounds})`, {
      cluster: cluster.name,
      data: { metric: metric.name, value, verdict, counters: counted.counters },
    });
  }
  // A measurement asked for before an earlier one in this tick failed the cluster changes nothing more.
  if (cluster.phase === 'rolling_back' || cluster.phase === 'rolled_back' || cluster.phase === 'failed') return;
  if (counted.status === 'failed') {
    failCluster(draft, cluster, `analysis failed: ${metric.name} = ${shown} (${bounds}); ${counted.reason}`);
  } else if (counted.status === 'inconclusive' && draft.state.phase !== 'paused' && draft.state.phase !== 'rolling_back') {
    pauseForHuman(
      draft,
      'inconclusive',
      `analysis inconclusive on ${cluster.name}: ${metric.name} = ${shown}; ${counted.reason}; resume or promote to go on, or abort`,
    );
  }
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 10_000) / 10_000 : value;
}

function scheduleAnalysis(draft: Draft): void {
  const interval = draft.plan.analysis?.intervalMs;
  if (!interval) return;
  for (const cluster of Object.values(draft.state.clusters)) {
    if (!analysing(draft.plan, draft.state, cluster)) {
      cluster.nextAnalysisAt = null;
      continue;
    }
    if (cluster.nextAnalysisAt === null) {
      // The first measurement waits one interval, so the rate window holds only canary traffic.
      cluster.nextAnalysisAt = draft.now + interval;
    } else if (analysisDue(draft.plan, draft.state, cluster, draft.now)) {
      const measured = draft.observations.measurements.some((m) => m.cluster === cluster.name);
      if (measured) cluster.nextAnalysisAt = Math.max(cluster.nextAnalysisAt + interval, draft.now + interval / 2);
    }
    draft.wake(cluster.nextAnalysisAt);
  }
}

/** Whether every metric has at least one successful measurement on this cluster: promotion never goes blind. */
function analysisPassed(draft: Draft, cluster: ClusterState): boolean {
  const metrics = draft.plan.analysis?.metrics ?? [];
  return metrics.every((metric) => cluster.analysis[metric.name]?.lastVerdict === 'successful');
}

// --- one cluster going forward -------------------------------------------------------------------------------------

function stepsOf(draft: Draft, cluster: ClusterState): Step[] {
  return draft.plan.waves[cluster.wave]?.steps ?? [];
}

function describeStep(step: Step): string {
  if (step.kind === 'setWeight') return `setWeight ${step.weight}`;
  return step.durationMs === undefined ? 'pause until promoted' : `pause ${formatDuration(step.durationMs)}`;
}

function startCluster(draft: Draft, cluster: ClusterState): void {
  const workload = draft.workload(cluster.name);
  const stable = workload?.stable;
  if (!workload) {
    draft.wake(draft.now);
    return;
  }
  const { namespace, workload: target } = draft.plan;
  if (!stable) {
    failCluster(
      draft,
      cluster,
      `deployment ${namespace}/${target.name} was not found in cluster ${cluster.name}: check namespace and workload.name in the rollout file`,
    );
    return;
  }
  if (!stable.image) {
    failCluster(
      draft,
      cluster,
      `deployment ${namespace}/${target.name} in ${cluster.name} has no container named ${target.container}: check workload.container`,
    );
    return;
  }
  cluster.snapshot = { image: stable.image, replicas: stable.replicas, version: stable.version };
  cluster.stableReplicas = stable.replicas;
  cluster.phase = 'canary';
  cluster.step = 0;
  cluster.startedAt = draft.now;
  cluster.stepStartedAt = draft.now;
  cluster.reason = 'started';
  draft.event(
    'cluster.started',
    `${cluster.name}: started; the stable runs ${stable.image} with ${stable.replicas} replica(s)`,
    { cluster: cluster.name, data: { snapshot: cluster.snapshot } },
  );
}

function nextStep(draft: Draft, cluster: ClusterState, message: string): void {
  cluster.step += 1;
  cluster.stepStartedAt = draft.now;
  cluster.pauseUntil = null;
  cluster.awaitingPromote = false;
  cluster.waitingSince = null;
  const step = stepsOf(draft, cluster)[cluster.step];
  draft.event('cluster.step', `${cluster.name}: ${message}${step ? `; now step ${cluster.step + 1}: ${describeStep(step)}` : ''}`, {
    cluster: cluster.name,
    data: { step: cluster.step },
  });
}

function enterPromoting(draft: Draft, cluster: ClusterState, message: string): void {
  cluster.phase = 'promoting';
  cluster.pauseUntil = null;
  cluster.awaitingPromote = false;
  cluster.waitingSince = draft.now;
  cluster.reason = message;
  draft.event('cluster.promoting', `${cluster.name}: ${message}; setting ${draft.plan.image} on the stable`, {
    cluster: cluster.name,
  });
}

function overDeadline(draft: Draft, cluster: ClusterState, what: string, view: DeploymentView | null | undefined): boolean {
  cluster.waitingSince ??= draft.now;
  const deadline = cluster.waitingSince + draft.plan.progressDeadlineMs;
  const problem = view?.problem ? ` (${view.problem})` : '';
  if (view?.progressDeadlineExceeded || draft.now >= deadline) {
    failCluster(
      draft,
      cluster,
      `${what} did not become ready within the progress deadline ${formatDuration(draft.plan.progressDeadlineMs)}${problem}`,
    );
    return true;
  }
  draft.wake(Math.min(draft.now + READINESS_POLL_MS, deadline));
  return false;
}

function advanceCluster(draft: Draft, cluster: ClusterState): void {
  switch (cluster.phase) {
    case 'pending':
      if (!clustersToStart(draft.plan, draft.state).includes(cluster.name)) return;
      startCluster(draft, cluster);
      // startCluster moves it to canary unless the stable was missing; TypeScript cannot see that change.
      if ((cluster.phase as ClusterState['phase']) === 'canary') runCanary(draft, cluster);
      return;
    case 'canary':
      if (kubeBackoff(draft, cluster)) return;
      runCanary(draft, cluster);
      return;
    case 'promoting':
      if (kubeBackoff(draft, cluster)) return;
      runPromotion(draft, cluster);
      return;
    case 'promoted':
    case 'rolled_back':
    case 'failed':
    case 'rolling_back':
      return;
    default:
      assertNever(cluster.phase, 'cluster phase');
  }
}

/** Walks a cluster through its steps as far as it can go in this tick. */
function runCanary(draft: Draft, cluster: ClusterState): void {
  const workload = draft.workload(cluster.name);
  if (!workload) {
    draft.wake(draft.now);
    return;
  }
  const steps = stepsOf(draft, cluster);
  const holding = draft.state.phase !== 'progressing';
  for (let guard = 0; guard <= steps.length && cluster.phase === 'canary'; guard++) {
    const step = steps[cluster.step];
    if (!step) {
      if (holding) return;
      if (cluster.actualWeight > 0 && !analysisPassed(draft, cluster)) {
        // The canary took traffic but no measurement has passed yet: wait for the next one rather than promote blind.
        cluster.reason = 'waiting for a successful analysis before promotion';
        return;
      }
      enterPromoting(draft, cluster, `all ${steps.length} steps done`);
      runPromotion(draft, cluster);
      return;
    }
    if (step.kind === 'setWeight') {
      const stableReplicas = workload.stable?.replicas ?? cluster.stableReplicas;
      const replicas = canaryReplicasFor(step.weight, stableReplicas);
      cluster.targetWeight = step.weight;
      const canary = workload.canary;
      if (!canary || canary.replicas !== replicas || canary.image !== draft.plan.image) {
        // Writes that keep failing are bounded by the progress deadline like pods that never get ready.
        if (overDeadline(draft, cluster, `canary in ${cluster.name} (${cluster.lastKubeError ?? 'not yet written'})`, canary)) return;
        draft.actions.push({ type: 'ensureCanary', cluster: cluster.name, replicas, image: draft.plan.image, version: draft.plan.version });
        return;
      }
      if (canary.readyReplicas < replicas || canary.availableReplicas < replicas) {
        overDeadline(draft, cluster, `canary in ${cluster.name} (${canary.readyReplicas}/${replicas} ready)`, canary);
        return;
      }
      cluster.actualWeight = actualWeight(replicas, stableReplicas);
      cluster.canaryReplicas = replicas;
      if (holding) return;
      nextStep(draft, cluster, `weight ${cluster.actualWeight}% reached (${replicas} canary / ${stableReplicas} stable pods)`);
      continue;
    }
    // A pause step.
    if (step.durationMs === undefined) {
      if (!cluster.awaitingPromote) {
        cluster.awaitingPromote = true;
        cluster.reason = 'waiting for promote';
        draft.event('cluster.awaiting_promote', `${cluster.name}: paused until promoted (oleada rollout promote)`, {
          cluster: cluster.name,
        });
      }
      return;
    }
    cluster.pauseUntil ??= (cluster.stepStartedAt ?? draft.now) + step.durationMs;
    if (draft.now < cluster.pauseUntil) {
      draft.wake(cluster.pauseUntil);
      return;
    }
    // The pause is over, but the rollout is held (paused by a person): a resume command will wake it.
    if (holding) return;
    nextStep(draft, cluster, `paused ${formatDuration(step.durationMs)}`);
  }
}

function runPromotion(draft: Draft, cluster: ClusterState): void {
  const workload = draft.workload(cluster.name);
  if (!workload) {
    draft.wake(draft.now);
    return;
  }
  const { stable, canary } = workload;
  if (!stable) {
    failCluster(draft, cluster, `deployment ${draft.plan.namespace}/${draft.plan.workload.name} disappeared from ${cluster.name} during promotion`);
    return;
  }
  if (stable.image !== draft.plan.image || stable.version !== draft.plan.version) {
    if (overDeadline(draft, cluster, `promotion of ${cluster.name} (${cluster.lastKubeError ?? 'not yet written'})`, stable)) return;
    draft.actions.push({ type: 'promoteStable', cluster: cluster.name, image: draft.plan.image, version: draft.plan.version });
    return;
  }
  if (!stable.rolledOut) {
    overDeadline(draft, cluster, `stable in ${cluster.name} (${stable.updatedReplicas}/${stable.replicas} updated, ${stable.readyReplicas} ready)`, stable);
    return;
  }
  if (canary) {
    draft.actions.push({ type: 'deleteCanary', cluster: cluster.name });
    draft.wake(draft.now + READINESS_POLL_MS);
    return;
  }
  settle(draft, cluster, 'promoted', 100);
  cluster.reason = 'promoted';
  draft.event('cluster.promoted', `${cluster.name}: promoted; the stable runs ${draft.plan.image}`, { cluster: cluster.name });
}

/** A cluster at rest: all of its traffic on one version, no canary left, nothing to wait for. */
function settle(draft: Draft, cluster: ClusterState, phase: 'promoted' | 'rolled_back', weight: 0 | 100): void {
  cluster.phase = phase;
  cluster.targetWeight = weight;
  cluster.actualWeight = weight;
  cluster.canaryReplicas = 0;
  cluster.waitingSince = null;
  cluster.finishedAt = draft.now;
}

// --- waves -----------------------------------------------------------------------------------------------------------

function advanceWaves(draft: Draft): void {
  const s = draft.state;
  for (let guard = 0; guard <= draft.plan.waves.length; guard++) {
    if (s.phase !== 'progressing' && s.phase !== 'awaiting_approval') return;
    const wave = draft.plan.waves[s.waveIndex];
    const waveState = s.waves[s.waveIndex];
    if (!wave || !waveState) {
      setPhase(draft, 'succeeded', succeededReason(draft));
      return;
    }
    switch (waveState.status) {
      case 'pending':
        if (wave.approval && !waveState.approvedBy) {
          waveState.status = 'awaiting_approval';
          draft.event('wave.awaiting_approval', `wave ${wave.name} waits for approval (oleada rollout approve)`, { wave: wave.name });
          setPhase(draft, 'awaiting_approval', `wave ${wave.name} waits for approval`);
          return;
        }
        beginWave(draft, s.waveIndex);
        continue;
      case 'awaiting_approval':
        if (!waveState.approvedBy) return;
        setPhase(draft, 'progressing', `wave ${wave.name} approved by ${waveState.approvedBy}`, waveState.approvedBy);
        beginWave(draft, s.waveIndex);
        continue;
      case 'running': {
        const members = wave.clusters.map((name) => s.clusters[name]!);
        for (const name of clustersToStart(draft.plan, s)) {
          // These start next tick, once their workloads have been read.
          if (!draft.observations.workloads[name]) draft.wake(draft.now);
        }
        const done = members.every((c) => c.phase === 'promoted' || c.phase === 'rolled_back');
        if (!done) return;
        if (wave.bakeMs > 0) {
          waveState.status = 'baking';
          waveState.bakeUntil = draft.now + wave.bakeMs;
          draft.event('wave.baking', `wave ${wave.name} promoted; baking for ${formatDuration(wave.bakeMs)} while analysis goes on`, {
            wave: wave.name,
          });
          draft.wake(waveState.bakeUntil);
          return;
        }
        completeWave(draft, s.waveIndex);
        continue;
      }
      case 'baking':
        if (waveState.bakeUntil !== null && draft.now < waveState.bakeUntil) {
          draft.wake(waveState.bakeUntil);
          return;
        }
        completeWave(draft, s.waveIndex);
        continue;
      case 'succeeded':
      case 'rolled_back':
        s.waveIndex += 1;
        continue;
      default:
        assertNever(waveState.status, 'wave status');
    }
  }
}

function beginWave(draft: Draft, index: number): void {
  const wave = draft.plan.waves[index]!;
  const waveState = draft.state.waves[index]!;
  waveState.status = 'running';
  waveState.startedAt = draft.now;
  draft.event('wave.started', `wave ${wave.name} started: ${wave.clusters.join(', ')} (at most ${wave.maxParallel} at a time)`, {
    wave: wave.name,
  });
  draft.wake(draft.now);
}

function completeWave(draft: Draft, index: number): void {
  const wave = draft.plan.waves[index]!;
  const waveState = draft.state.waves[index]!;
  waveState.status = 'succeeded';
  waveState.finishedAt = draft.now;
  draft.event('wave.succeeded', `wave ${wave.name} succeeded`, { wave: wave.name });
  draft.state.waveIndex = index + 1;
  draft.wake(draft.now);
}

function succeededReason(draft: Draft): string {
  const skipped = Object.values(draft.state.clusters).filter((c) => c.phase === 'rolled_back').map((c) => c.name);
  const base = `${draft.plan.version} is promoted in every wave`;
  return skipped.length > 0 ? `${base} except ${skipped.join(', ')}, which was rolled back` : base;
}

// --- failure and rollback -------------------------------------------------------------------------------------------

function pauseForHuman(draft: Draft, kind: 'inconclusive' | 'cluster_failed', reason: string): void {
  const s = draft.state;
  s.paused = {
    kind,
    actor: ENGINE,
    reason,
    at: draft.now,
    resumeTo: s.phase === 'awaiting_approval' ? 'awaiting_approval' : 'progressing',
  };
  setPhase(draft, 'paused', reason);
}

/** A cluster has failed: undo as much as the rollback scope says. */
function failCluster(draft: Draft, cluster: ClusterState, reason: string): void {
  const s = draft.state;
  if (cluster.phase === 'rolling_back' || cluster.phase === 'rolled_back' || cluster.phase === 'failed') {
    if (cluster.phase === 'rolling_back') {
      cluster.phase = 'failed';
      cluster.reason = `rollback could not finish: ${reason}`;
      cluster.finishedAt = draft.now;
      draft.event('cluster.failed', `${cluster.name}: rollback could not finish: ${reason}; a person must look at it`, {
        cluster: cluster.name,
      });
    }
    return;
  }
  draft.event('cluster.failed', `${cluster.name}: ${reason}`, { cluster: cluster.name });
  cluster.reason = reason;
  if (s.phase === 'rolling_back') {
    markRollingBack(draft, cluster, reason);
    return;
  }
  const scope = draft.plan.rollbackScope;
  if (scope === 'cluster') {
    markRollingBack(draft, cluster, reason);
    if (s.phase !== 'paused') {
      pauseForHuman(draft, 'cluster_failed', `${cluster.name} failed and is being rolled back: ${reason}; resume to go on without it, or abort`);
    }
    return;
  }
  beginRollback(draft, { cause: `${cluster.name} failed: ${reason}`, cluster: cluster.name, endPhase: 'rolled_back', actor: ENGINE });
}

function markRollingBack(draft: Draft, cluster: ClusterState, reason: string): void {
  if (cluster.phase === 'pending') return;
  cluster.promotedBeforeRollback = cluster.phase === 'promoting' || cluster.phase === 'promoted';
  cluster.phase = 'rolling_back';
  cluster.waitingSince = draft.now;
  cluster.pauseUntil = null;
  cluster.awaitingPromote = false;
  cluster.reason = reason;
  draft.event('cluster.rolling_back', `${cluster.name}: rolling back${cluster.promotedBeforeRollback ? ' and restoring the stable' : ''}`, {
    cluster: cluster.name,
  });
}

/** Which clusters a rollback touches: every started one for `all`, the failing wave's for `wave`, in-flight ones for `cluster`. */
function rollbackTargets(draft: Draft, failedCluster: string | null): ClusterState[] {
  const s = draft.state;
  const started = Object.values(s.clusters).filter((c) => c.phase !== 'pending' && c.phase !== 'rolled_back' && c.phase !== 'failed');
  switch (draft.plan.rollbackScope) {
    case 'all':
      return started;
    case 'wave': {
      const wave = failedCluster !== null ? s.clusters[failedCluster]!.wave : s.waveIndex;
      return started.filter((c) => c.wave === wave || c.phase === 'canary' || c.phase === 'promoting');
    }
    case 'cluster':
      return started.filter((c) => c.name === failedCluster || c.phase === 'canary' || c.phase === 'promoting' || c.phase === 'rolling_back');
    default:
      return assertNever(draft.plan.rollbackScope, 'rollback scope');
  }
}

function beginRollback(draft: Draft, rollback: NonNullable<RolloutState['rollback']>): void {
  const s = draft.state;
  const targets = rollbackTargets(draft, rollback.cluster);
  s.rollback = rollback;
  s.paused = null;
  for (const cluster of targets) {
    if (cluster.phase !== 'rolling_back') markRollingBack(draft, cluster, rollback.cause);
  }
  for (const wave of s.waves) {
    if (wave.status === 'running' || wave.status === 'baking' || wave.status === 'awaiting_approval') wave.status = 'rolled_back';
  }
  setPhase(draft, 'rolling_back', rollback.cause, rollback.actor);
  draft.wake(draft.now);
}

function matchesSnapshot(stable: DeploymentView, cluster: ClusterState): boolean {
  const snapshot = cluster.snapshot!;
  return stable.image === snapshot.image && stable.version === snapshot.version && stable.replicas === snapshot.replicas;
}

/** Drives one cluster back to its snapshot: the canary gone and, if it was promoted, the stable as it was. */
function reconcileRollback(draft: Draft, cluster: ClusterState): void {
  if (cluster.phase !== 'rolling_back') return;
  const workload = draft.workload(cluster.name);
  if (!workload) {
    // Not observed yet (it failed earlier in this tick), or Kubernetes did not answer: look again soon.
    if (!kubeBackoff(draft, cluster)) draft.wake(draft.now);
    overDeadline(draft, cluster, `rollback of ${cluster.name}`, null);
    return;
  }
  const { stable, canary } = workload;
  let done = true;
  if (canary) {
    draft.actions.push({ type: 'deleteCanary', cluster: cluster.name });
    done = false;
  }
  if (cluster.promotedBeforeRollback && cluster.snapshot && stable) {
    if (!matchesSnapshot(stable, cluster)) {
      draft.actions.push({ type: 'restoreStable', cluster: cluster.name, snapshot: cluster.snapshot });
      done = false;
    } else if (!stable.rolledOut) {
      done = false;
    }
  }
  if (!done) {
    overDeadline(draft, cluster, `rollback of ${cluster.name}`, canary ? null : stable);
    return;
  }
  settle(draft, cluster, 'rolled_back', 0);
  draft.event(
    'cluster.rolled_back',
    `${cluster.name}: rolled back; no canary left${cluster.promotedBeforeRollback ? `, the stable runs ${cluster.snapshot?.image} again` : ''}`,
    { cluster: cluster.name },
  );
}

function finishRollback(draft: Draft): void {
  const s = draft.state;
  if (s.phase !== 'rolling_back' || !s.rollback) return;
  const clusters = Object.values(s.clusters);
  if (clusters.some((c) => c.phase === 'rolling_back')) return;
  const failed = clusters.filter((c) => c.phase === 'failed');
  if (failed.length > 0) {
    setPhase(
      draft,
      'failed',
      `${s.rollback.cause}; the rollback could not finish on ${failed.map((c) => `${c.name} (${c.reason})`).join(', ')}`,
      s.rollback.actor,
    );
    return;
  }
  const verb = s.rollback.endPhase === 'aborted' ? 'aborted' : 'rolled back';
  setPhase(draft, s.rollback.endPhase, `${verb}: ${s.rollback.cause}`, s.rollback.actor);
}

/**
 * Folds the outcome of a tick's Kubernetes writes into the decided state. A retryable failure only backs the cluster
 * off (the next tick sees the workload unchanged and writes again, within the progress deadline); a final one fails
 * the cluster at the next decision.
 */
export function recordActionResults(decision: Decision, results: ActionResult[], now: number): Decision {
  if (results.length === 0) return decision;
  const state = structuredClone(decision.state);
  const events = [...decision.events];
  let wakeAt = decision.wakeAt;
  const failedClusters = new Set(results.filter((r) => !r.ok).map((r) => r.action.cluster));
  for (const result of results) {
    const cluster = state.clusters[result.action.cluster];
    if (!cluster) continue;
    if (result.ok) {
      if (!failedClusters.has(cluster.name)) cluster.actionFailures = 0;
      continue;
    }
    cluster.actionFailures += 1;
    cluster.lastKubeError = result.message;
    if (result.kind === 'final') cluster.pendingFailure = result.message;
    const retryAt = result.kind === 'final' ? now : now + Math.min(MAX_KUBE_BACKOFF_MS, 250 * 2 ** Math.min(cluster.actionFailures, 6));
    wakeAt = wakeAt === null ? retryAt : Math.min(wakeAt, retryAt);
    // Final failures are always told; retried ones on the first and every tenth time in a row.
    if (result.kind !== 'final' && cluster.actionFailures !== 1 && cluster.actionFailures % 10 !== 0) continue;
    state.eventSeq += 1;
    events.push({
      seq: state.eventSeq,
      time: new Date(now),
      type: 'cluster.action_failed',
      wave: null,
      cluster: cluster.name,
      actor: ENGINE,
      message: `${cluster.name}: ${result.action.type} failed: ${result.message}${result.kind === 'final' ? '' : ` (attempt ${cluster.actionFailures}; retrying)`}`,
      data: { action: result.action.type, kind: result.kind },
    });
  }
  return { ...decision, state, events, wakeAt: isTerminal(state.phase) ? null : wakeAt };
}
