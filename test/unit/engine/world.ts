import type { ClusterObservation } from '../../../src/clusters/providers/types.ts';
import { replicasTraffic } from '../../../src/clusters/providers/replicas.ts';
import { canaryReplicasFor } from '../../../src/clusters/providers/replicas-weights.ts';
import type { DeploymentView, WorkloadObservation } from '../../../src/clusters/workload.ts';
import type { Action } from '../../../src/engine/actions.ts';
import { decide, recordActionResults, recordHookAnswers, type Decision, type HookCall } from '../../../src/engine/decide.ts';
import { needs, type Measurement, type MeasurementResult, type Observations, type PendingCommand } from '../../../src/engine/observations.ts';
import { initialState, isTerminal, type RolloutState } from '../../../src/model/state.ts';
import type { Plan, PlanWave, Step } from '../../../src/spec/plan.ts';
import type { NewEvent } from '../../../src/model/events.ts';

/**
 * A model of a few clusters for driving the pure decide function through whole rollouts without I/O. Deployments
 * converge to their spec a fixed number of ticks after a write; a "broken" image never becomes ready.
 */

interface ModelDeployment {
  image: string;
  version: string | null;
  replicas: number;
  /** The weight a canary was sized for. */
  weight?: number;
  generation: number;
  /** Ticks left before the status catches up with the spec. */
  settlingTicks: number;
}

export interface WorldOptions {
  stableReplicas?: number;
  /** How many observations a write takes to settle. */
  settleTicks?: number;
  /** Images whose pods never become ready. */
  brokenImages?: string[];
  /** Clusters where the new image never becomes ready. */
  brokenClusters?: string[];
  /** Observe `<name>-baseline` too, as the engine does with `analysis.baseline: deployment`. */
  baselineDeployment?: boolean;
}

export class World {
  readonly stables = new Map<string, ModelDeployment>();
  readonly canaries = new Map<string, ModelDeployment>();
  readonly baselines = new Map<string, ModelDeployment>();
  readonly writes: (Action & { at: number })[] = [];
  /** The canary pod count after each canary write, as the replicas provider sized it. */
  readonly canarySizes: number[] = [];
  unreachable = new Set<string>();
  /** Clusters that answer reads but refuse every write with a retryable error. */
  rejectWrites = new Set<string>();

  constructor(
    clusters: string[],
    private readonly options: WorldOptions = {},
  ) {
    for (const name of clusters) {
      this.stables.set(name, {
        image: 'registry.example.com/checkout:1.0.0',
        version: '1.0.0',
        replicas: options.stableReplicas ?? 4,
        generation: 1,
        settlingTicks: 0,
      });
    }
  }

  private view(cluster: string, name: string, d: ModelDeployment): DeploymentView {
    const broken =
      (this.options.brokenImages?.includes(d.image) ?? false) ||
      (d.image !== STABLE_IMAGE && (this.options.brokenClusters?.includes(cluster) ?? false));
    const settled = d.settlingTicks <= 0 && !broken;
    const ready = settled ? d.replicas : 0;
    return {
      name,
      image: d.image,
      version: d.version,
      replicas: d.replicas,
      generation: d.generation,
      observedGeneration: d.generation,
      statusReplicas: d.replicas,
      updatedReplicas: settled ? d.replicas : 0,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: d.replicas - ready,
      progressDeadlineExceeded: false,
      rolledOut: settled,
      problem: broken ? `${d.replicas} pods in CrashLoopBackOff` : null,
      weight: d.weight ?? null,
    };
  }

  observe(cluster: string): ClusterObservation {
    const stable = this.stables.get(cluster);
    const canary = this.canaries.get(cluster);
    const baseline = this.baselines.get(cluster);
    const observation: WorkloadObservation = {
      stable: stable ? this.view(cluster, 'checkout', stable) : null,
      canary: canary ? this.view(cluster, 'checkout-canary', canary) : null,
      ...(this.options.baselineDeployment ? { baseline: baseline ? this.view(cluster, 'checkout-baseline', baseline) : null } : {}),
    };
    for (const d of [stable, canary, baseline]) if (d && d.settlingTicks > 0) d.settlingTicks -= 1;
    return { ...observation, traffic: replicasTraffic(observation) };
  }

  apply(action: Action, at: number): void {
    this.writes.push({ ...action, at });
    const settle = this.options.settleTicks ?? 1;
    switch (action.type) {
      case 'ensureCanary':
      case 'setWeight': {
        // As the replicas provider does: the canary sized for the weight against the stable's pods.
        const existing = this.canaries.get(action.cluster);
        const replicas = canaryReplicasFor(action.weight, this.stables.get(action.cluster)!.replicas);
        this.canarySizes.push(replicas);
        this.canaries.set(action.cluster, {
          image: action.image,
          version: action.version,
          replicas,
          weight: action.weight,
          generation: (existing?.generation ?? 0) + 1,
          settlingTicks: settle,
        });
        return;
      }
      case 'promoteSelector':
      case 'finalizeRoute':
        return;
      case 'deleteCanary':
        this.canaries.delete(action.cluster);
        return;
      case 'ensureBaseline':
        this.baselines.set(action.cluster, {
          image: action.image,
          version: `${action.stableVersion}-baseline`,
          // Sized as the replicas provider sizes the canary, when decide gives a weight.
          replicas: 'replicas' in action.size ? action.size.replicas : canaryReplicasFor(action.size.weight, action.size.stableReplicas),
          generation: (this.baselines.get(action.cluster)?.generation ?? 0) + 1,
          settlingTicks: settle,
        });
        return;
      case 'deleteBaseline':
        this.baselines.delete(action.cluster);
        return;
      case 'promoteStable': {
        const stable = this.stables.get(action.cluster)!;
        Object.assign(stable, { image: action.image, version: action.version, generation: stable.generation + 1, settlingTicks: settle });
        return;
      }
      case 'restoreStable': {
        const stable = this.stables.get(action.cluster)!;
        Object.assign(stable, {
          image: action.snapshot.image,
          version: action.snapshot.version,
          replicas: action.snapshot.replicas,
          generation: stable.generation + 1,
          settlingTicks: settle,
        });
        return;
      }
    }
  }
}

export const STABLE_IMAGE = 'registry.example.com/checkout:1.0.0';
export const NEW_IMAGE = 'registry.example.com/checkout:1.1.0';

export function makePlan(overrides: Omit<Partial<Plan>, 'waves'> & { waves?: (Partial<PlanWave> & { clusters: string[] })[] } = {}): Plan {
  const steps: Step[] = [{ kind: 'setWeight', weight: 25 }, { kind: 'pause', durationMs: 10_000 }, { kind: 'setWeight', weight: 50 }];
  const waves = (overrides.waves ?? [{ clusters: ['staging-eu'] }, { clusters: ['prod-eu-1'] }, { clusters: ['prod-us-1'] }]).map(
    (wave, index) => ({
      name: wave.name ?? `wave-${index + 1}`,
      clusters: wave.clusters,
      maxParallel: wave.maxParallel ?? wave.clusters.length,
      approval: wave.approval ?? false,
      bakeMs: wave.bakeMs ?? 0,
      steps: wave.steps ?? steps,
    }),
  );
  return {
    app: 'checkout',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'checkout', container: 'app' },
    image: NEW_IMAGE,
    version: '1.1.0',
    progressDeadlineMs: 60_000,
    rollbackScope: 'all',
    analysis: {
      intervalMs: 5_000,
      failureLimit: 0,
      inconclusiveLimit: 0,
      consecutiveErrorLimit: 2,
      metrics: [{ name: 'error-rate', query: 'errors{cluster="{{cluster}}"}', max: 0.01 }],
    },
    ...overrides,
    waves,
  };
}

/** What each measurement returns; by default every metric is healthy. */
export type MetricSource = (cluster: string, metric: string, now: number) => MeasurementResult;

export interface ScheduledCommand {
  /** Give the command on the first tick at or after this time... */
  at?: number;
  /** ...or on the first tick where this holds. */
  when?: (state: RolloutState) => boolean;
  command: Omit<PendingCommand, 'id'>;
}

/** How a hook answers a call: a status, or null for no answer within its timeout. By default every hook answers 200. */
export type HookResponder = (call: HookCall, now: number, state: RolloutState) => number | null;

export interface Run {
  /** Every hook call made, in order, with its time and answer. */
  hookCalls: (HookCall & { at: number; status: number | null })[];
  state: RolloutState;
  events: NewEvent[];
  decisions: Decision[];
  world: World;
  ticks: number;
  now: number;
}

/** Ticks a rollout from its first tick until it ends or `maxTicks` pass, the way the tick runner would. */
export function runRollout(
  plan: Plan,
  options: {
    world?: World;
    metrics?: MetricSource;
    commands?: ScheduledCommand[];
    maxTicks?: number;
    start?: number;
    hooks?: HookResponder;
    /** Called after every tick with the state it produced, for invariants. */
    check?: (state: RolloutState, decision: Decision, world: World) => void;
  } = {},
): Run {
  const world = options.world ?? new World(plan.waves.flatMap((w) => w.clusters));
  const metrics: MetricSource = options.metrics ?? (() => ({ kind: 'value', value: 0 }));
  const pending = [...(options.commands ?? [])];
  let state = initialState(plan);
  let now = options.start ?? 1_000_000;
  const events: NewEvent[] = [];
  const decisions: Decision[] = [];
  const hookCalls: Run['hookCalls'] = [];
  let nextId = 1;
  let ticks = 0;
  for (; ticks < (options.maxTicks ?? 2_000); ticks++) {
    const wanted = needs(plan, state, now);
    const observations: Observations = { workloads: {}, measurements: [], commands: [] };
    for (const cluster of wanted.workloads) {
      observations.workloads[cluster] = world.unreachable.has(cluster)
        ? { ok: false, error: { kind: 'retryable', message: `${cluster}: connection refused` } }
        : { ok: true, workload: world.observe(cluster) };
    }
    for (const { cluster, metric } of wanted.metrics) {
      const m: Measurement = { cluster, metric, query: `q-${cluster}-${metric}`, result: metrics(cluster, metric, now), at: now };
      observations.measurements.push(m);
    }
    for (let i = 0; i < pending.length; ) {
      const scheduled = pending[i]!;
      if ((scheduled.at !== undefined && now >= scheduled.at) || scheduled.when?.(state)) {
        observations.commands.push({ id: nextId++, ...scheduled.command });
        pending.splice(i, 1);
      } else i++;
    }
    let decision = decide(plan, state, observations, now);
    const results = decision.actions.map((action) => {
      if (world.unreachable.has(action.cluster) || world.rejectWrites.has(action.cluster)) {
        return { action, ok: false as const, kind: 'retryable' as const, message: 'connection refused' };
      }
      world.apply(action, now);
      return { action, ok: true as const };
    });
    decision = recordActionResults(decision, results, now);
    const answers = decision.hookCalls.map((call) => {
      const status = options.hooks ? options.hooks(call, now, decision.state) : 200;
      hookCalls.push({ ...call, at: now, status });
      return { call, status, durationMs: 3, body: status === null ? '' : `status ${status}`, error: null };
    });
    decision = recordHookAnswers(plan, decision, answers, now);
    state = decision.state;
    events.push(...decision.events);
    decisions.push(decision);
    options.check?.(state, decision, world);
    if (isTerminal(state.phase)) break;
    const nextCommand = pending.map((c) => c.at ?? Infinity).reduce((a, b) => Math.min(a, b), Infinity);
    const conditional = pending.some((c) => c.when);
    const wake = decision.wakeAt ?? (conditional ? now + 1_000 : nextCommand);
    if (!Number.isFinite(wake)) break; // waiting for a command nobody will give
    now = Math.max(now + 1, Math.min(wake, nextCommand));
  }
  return { state, events, decisions, world, ticks, now, hookCalls };
}

export function eventTypes(run: Run, filter?: (event: NewEvent) => boolean): string[] {
  return run.events.filter(filter ?? (() => true)).map((e) => (e.cluster ? `${e.type}:${e.cluster}` : e.type));
}
