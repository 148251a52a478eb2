import type { PrometheusClient } from '../analysis/prometheus.ts';
import { baselineVersionLabel, renderQuery } from '../spec/query-template.ts';
import { classifyKubeError, isKubeError, type KubeError } from '../clusters/errors.ts';
import type { BaselineWorkloads } from '../clusters/baseline.ts';
import { LeaseLostError, runFenced } from '../clusters/fence.ts';
import type { ProviderKind, RouterSnapshot, TrafficProvider, TrafficTarget } from '../clusters/providers/index.ts';
import { runUrgently } from '../clusters/urgency.ts';
import { assertNever, toError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { analysisVerdictsTotal, rolloutTransitionsTotal, tickDuration, tickLateness } from '../metrics.ts';
import { DelayJobError, FinalJobError } from '../queue/errors.ts';
import { scheduledTickId, type JobPayload } from '../queue/catalog.ts';
import type { JobQueues } from '../queue/queues.ts';
import { toPromDuration } from '../spec/duration.ts';
import { rangeStepMs } from '../analysis/judged-range.ts';
import { providerOf, type Plan } from '../spec/plan.ts';
import type { Pool } from '../store/pool.ts';
import { getRollout, releaseLease } from '../store/rollouts.ts';
import { leaseForTick, persistTick, type LeasedTick, type TickCommand } from '../store/tick.ts';
import { TickLease } from './lease.ts';
import type { TickCache } from './tick-cache.ts';
import type { Action, ActionResult } from './actions.ts';
import { decide, recordActionResults, recordHookAnswers, type Decision, type HookAnswer } from './decide.ts';
import type { HookCaller } from './hook-call.ts';
import { needs, type Measurement, type Observations, type WorkloadResult } from './observations.ts';
import { isTerminal, type RolloutState } from '../model/state.ts';
import type { Outbox } from '../notifications/outbox.ts';

/** The clusters as the engine uses them; the ClusterRegistry is one. */
export interface ClusterAccess {
  has(name: string): boolean;
  /** The cluster's provider, or the one named (a rollout file can force one provider on every cluster). */
  provider(name: string, kind?: ProviderKind): TrafficProvider;
  /** The `<name>-baseline` Deployments of `analysis.baseline: deployment`. */
  baselines(name: string): BaselineWorkloads;
  prometheus(name: string): Pick<PrometheusClient, 'query' | 'queryRange'>;
}

export interface TickDeps {
  pool: Pool;
  queues: JobQueues;
  clusters: ClusterAccess;
  logger: Logger;
  /** Who holds leases taken by this process. */
  owner: string;
  /** How long a lease lives; longer than any tick can take. */
  leaseMs: number;
  /** The plans and last written states of the rollouts this process ticks, so that a lease need not send them again. */
  cache: TickCache;
  /** Writes the notification deliveries of the tick's events with them; absent: nobody is notified. */
  outbox?: Outbox;
  /** Calls the rollout file's hooks (src/engine/hook-call.ts); absent: every call fails, saying so. */
  hooks?: HookCaller;
  /** Makes the first try of committed deliveries in this process at once, ahead of their queued jobs (which stay as the backup). */
  deliverNow?: (ids: string[], writeStartedAt: number) => void;
}

export type TickPayload = JobPayload<'tick'>;

/** How long a tick waits before trying again when another process is ticking the same rollout. */
const LEASE_BUSY_DELAY_MS = 50;

/** A rollout as a tick holds it: what it decides from, under the lease it took. */
type TickRecord = Omit<LeasedTick, 'plan' | 'state' | 'commands'> & { plan: Plan; state: RolloutState };

/**
 * Takes the lease and loads the rollout with its pending commands in one statement, which leaves out the plan and the
 * state when this process holds them already (src/engine/tick-cache.ts).
 */
async function leaseAndLoad(deps: TickDeps, id: string): Promise<{ record: TickRecord; commands: TickCommand[] } | undefined> {
  // Taken before the await: another tick may make the cache drop them meanwhile.
  const plan = deps.cache.plan(id);
  const known = deps.cache.state(id);
  const row = await leaseForTick(deps.pool, { id, owner: deps.owner, ttlMs: deps.leaseMs, havePlan: plan !== undefined, knownVersion: known?.version ?? null });
  if (!row) return undefined;
  const { commands, ...rest } = row;
  if (rest.plan) deps.cache.rememberPlan(id, rest.plan);
  const record = { ...rest, plan: rest.plan ?? plan, state: rest.state ?? known?.state };
  if (!record.plan || !record.state) throw new Error(`rollout ${id}: the lease statement left out a plan or state this process does not hold`);
  return { record: { ...record, plan: record.plan, state: record.state }, commands };
}

/**
 * One tick: take the lease and load, observe what the state needs, decide, act, and persist the new state with its
 * events, samples, judgements, command outcomes and deliveries in one statement guarded by the version counter and
 * the lease (a decision that writes to a cluster is recorded before its writes: carryOut); then schedule the next tick.
 */
export async function runTick(deps: TickDeps, payload: TickPayload): Promise<void> {
  const started = Date.now();
  const asked = performance.now();
  const leased = await leaseAndLoad(deps, payload.rolloutId);
  if (!leased) {
    const existing = await getRollout(deps.pool, payload.rolloutId);
    if (!existing) throw new FinalJobError(`rollout ${payload.rolloutId} does not exist`);
    if (isTerminal(existing.phase) && payload.reason !== 'command') return;
    throw new DelayJobError(LEASE_BUSY_DELAY_MS, `rollout ${payload.rolloutId} is being ticked elsewhere`);
  }
  const { record, commands } = leased;
  const tickLease = new TickLease(deps.pool, deps.logger, record.id, deps.owner, record.leaseToken, deps.leaseMs, asked);
  let released = false;
  try {
    // A scheduled tick for a state that has since moved on is stale: the newer state scheduled its own. Unless the
    // newer state is a decision whose tick died before writing its outcome: nothing scheduled after it.
    if (payload.reason === 'scheduled' && payload.version !== undefined && payload.version !== record.version && commands.length === 0 && !record.interrupted) {
      return;
    }
    if (isTerminal(record.phase) && commands.length === 0) return;
    if (payload.reason === 'scheduled' && payload.dueAt !== undefined) {
      tickLateness.observe(Math.max(0, started - payload.dueAt) / 1000);
    }

    // A tick that carries out a person's command goes ahead of background polling in each cluster's rate limit.
    // Every Kubernetes write of the tick is fenced by its lease (src/clusters/fence.ts).
    const kube = <T>(fn: () => Promise<T>) => runFenced(tickLease, () => (commands.length > 0 ? runUrgently(fn) : fn()));
    const { snapshots, ...observed } = await kube(() => observe(deps, record, Date.now()));
    const observations: Observations = { ...observed, commands };
    const now = Date.now();
    const decision = decide(record.plan, record.state, observations, now);
    tickLease.assertHeld();

    let written: Written;
    try {
      written = await carryOut(deps, record, tickLease, decision, (actions) => kube(() => act(deps, record.plan, actions, snapshots)));
      released = true;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
      deps.logger.warn({ rollout: record.id, version: record.version }, 'state moved on (or the lease was lost) during the tick; its decision was dropped');
      return;
    }
    countTransitions(written.final);
    await Promise.all([schedule(deps.queues, record.id, written.version, written.final.wakeAt), deps.outbox?.dispatch(written.deliveries)]);
  } catch (err) {
    if (!(err instanceof LeaseLostError)) throw err;
    // Another worker has the rollout now and ticks it from the state in PostgreSQL; this tick wrote nothing since.
    released = true;
    deps.logger.warn({ rollout: record.id, token: record.leaseToken, reason: err.message }, 'lost the lease mid-tick; stopped without writing');
  } finally {
    tickLease.stop();
    if (!released) await releaseLease(deps.pool, record.id, deps.owner, record.leaseToken).catch(() => {});
    tickDuration.observe((Date.now() - started) / 1000);
  }
}

/** What a tick wrote: the version it ended at, the deliveries its events caused, and its decision with the outcome. */
interface Written {
  version: number;
  deliveries: string[];
  final: Decision;
}

/**
 * Carries out a decision and writes it. Decision before writes: a decision that changes a cluster is recorded first,
 * keeping the lease (migration 0008), so a tick that dies or stalls between its Kubernetes writes and its last write
 * leaves the step it was carrying out on record. The next holder finishes that step, its writes skipped where the
 * cluster shows them done, rather than putting the cluster back to the step before and doing it again. The second
 * write adds what the Kubernetes writes and the hook answers changed. Throws StaleStateError when either write loses.
 */
async function carryOut(
  deps: TickDeps,
  record: TickRecord,
  lease: TickLease,
  decision: Decision,
  writeToClusters: (actions: Action[]) => Promise<ActionResult[]>,
): Promise<Written> {
  let version = record.version;
  const deliveries: string[] = [];
  const write = async (what: Decision, acting: boolean) => {
    lease.assertHeld();
    const startedAt = performance.now();
    const written = await persist(deps, record, version, lease, what, acting);
    // The first tries go before anything else: they wait for nothing, and the queued jobs that the tick's end adds
    // are only the backup (the claim in PostgreSQL lets one of them send).
    deps.deliverNow?.(written.deliveries, startedAt);
    version = written.version;
    deliveries.push(...written.deliveries);
  };
  if (decision.actions.length > 0) await write(decision, true);
  // Hook calls run beside the Kubernetes writes, each within its own timeout; they are not writes, so not fenced.
  const [results, answers] = await Promise.all([writeToClusters(decision.actions), callHooks(deps, record, decision)]);
  const final = recordHookAnswers(record.plan, recordActionResults(decision, results, Date.now()), answers, Date.now());
  await write(version === record.version ? final : addedSince(decision, final), false);
  return { version, deliveries, final };
}

/** `final` less what `recorded` already wrote: its events came first, and its rows are written. */
function addedSince(recorded: Decision, final: Decision): Decision {
  return { ...final, events: final.events.slice(recorded.events.length), samples: [], judgements: [], commandOutcomes: [] };
}

// --- observe -------------------------------------------------------------------------------------------------------

function targetOf(plan: Plan, cluster: string): TrafficTarget {
  const { service, httpRoute, virtualService } = plan.traffic ?? {};
  const route = {
    ...(service !== undefined ? { service } : {}),
    ...(httpRoute !== undefined ? { httpRoute } : {}),
    ...(virtualService !== undefined ? { virtualService } : {}),
  };
  return { cluster, namespace: plan.namespace, name: plan.workload.name, container: plan.workload.container, route };
}

function clusterProvider(deps: TickDeps, plan: Plan, cluster: string): TrafficProvider {
  return deps.clusters.provider(cluster, providerOf(plan, cluster));
}

function kubeErrorOf(err: unknown, cluster: string, what: string): KubeError {
  return isKubeError(err) ? err : classifyKubeError(err, cluster, what);
}

/** The objects each cluster's router read, for the same tick's first route write (RouterSnapshot in providers/types.ts). */
type Snapshots = Map<string, RouterSnapshot>;

async function observe(deps: TickDeps, record: TickRecord, now: number): Promise<Omit<Observations, 'commands'> & { snapshots: Snapshots }> {
  const { plan, state } = record;
  const wanted = needs(plan, state, now);
  const workloads: Record<string, WorkloadResult> = {};
  const snapshots: Snapshots = new Map();
  const measurements: Measurement[] = [];

  const reads = wanted.workloads.map(async (cluster) => {
    if (!deps.clusters.has(cluster)) {
      workloads[cluster] = {
        ok: false,
        error: { kind: 'final', message: `cluster ${cluster} is no longer in the clusters file; put it back or abort the rollout` },
      };
      return;
    }
    try {
      const provider = clusterProvider(deps, plan, cluster);
      const target = targetOf(plan, cluster);
      const [workload, baseline] = await Promise.all([
        provider.workload.observe(target),
        plan.analysis?.baseline === 'deployment' ? deps.clusters.baselines(cluster).observe(target) : undefined,
      ]);
      const { traffic, snapshot } = await provider.router.observe(target, workload);
      if (snapshot) snapshots.set(cluster, snapshot);
      workloads[cluster] = { ok: true, workload: { ...workload, traffic, ...(baseline === undefined ? {} : { baseline }) } };
    } catch (err) {
      const error = kubeErrorOf(err, cluster, `read deployment ${plan.namespace}/${plan.workload.name}`);
      workloads[cluster] = { ok: false, error: { kind: error.kind, message: error.message } };
    }
  });

  const queries = wanted.metrics.map(async ({ cluster, metric: name }) => {
    const metric = plan.analysis?.metrics.find((m) => m.name === name);
    if (!metric || !plan.analysis) return;
    const query = renderQuery(metric.query, templateVars(plan, state, cluster));
    const at = Date.now();
    if (!deps.clusters.has(cluster)) {
      measurements.push({ cluster, metric: name, query, at, result: { kind: 'error', message: `cluster ${cluster} is no longer in the clusters file` } });
      return;
    }
    try {
      const prometheus = deps.clusters.prometheus(cluster);
      if (metric.judge) {
        // Both sides over the last interval: the canary's query, and the same query rendered for the baseline.
        const baselineQuery = renderQuery(metric.query, { ...templateVars(plan, state, cluster), version: baselineVersion(plan, state, cluster) });
        const range = { start: at - plan.analysis.intervalMs, end: at, stepMs: rangeStepMs(plan.analysis.intervalMs) };
        const [canary, baseline] = await Promise.all([prometheus.queryRange(query, range), prometheus.queryRange(baselineQuery, range)]);
        measurements.push({ cluster, metric: name, query, at, result: { kind: 'series', canary, baseline, baselineQuery } });
        return;
      }
      const result = await prometheus.query(query);
      measurements.push({ cluster, metric: name, query, at, result });
    } catch (err) {
      measurements.push({ cluster, metric: name, query, at, result: { kind: 'error', message: toError(err).message } });
    }
  });

  await Promise.all([...reads, ...queries]);
  return { workloads, measurements, snapshots };
}

export function templateVars(plan: Plan, state: RolloutState, cluster: string) {
  return {
    app: plan.app,
    namespace: plan.namespace,
    cluster,
    version: plan.version,
    stableVersion: state.clusters[cluster]?.snapshot?.version ?? '',
    workload: plan.workload.name,
    window: toPromDuration(plan.analysis?.intervalMs ?? 30_000),
  };
}

/**
 * The version the baseline's pods carry: the stable's, recorded in the cluster's snapshot when it started, or with
 * `baseline: deployment` the version label of the baseline Deployment's pods.
 */
function baselineVersion(plan: Plan, state: RolloutState, cluster: string): string {
  return baselineVersionLabel(plan.analysis?.baseline, state.clusters[cluster]?.snapshot?.version ?? null);
}

async function callHooks(deps: TickDeps, record: TickRecord, decision: Decision): Promise<HookAnswer[]> {
  if (decision.hookCalls.length === 0) return [];
  if (!deps.hooks) return decision.hookCalls.map((call) => ({ call, status: null, durationMs: 0, body: '', error: 'this process calls no hooks' }));
  // The body describes the rollout as this tick decided it (the cluster held, promoted...).
  return deps.hooks({ id: record.id, plan: record.plan, state: decision.state }, decision.hookCalls);
}

// --- act -------------------------------------------------------------------------------------------------------------

/**
 * Carries out one action. `seen` is what the router observed this tick; it is given only to the cluster's first router
 * write (act), since after a write it no longer says what is there.
 */
async function perform(clusters: ClusterAccess, { workload, router }: TrafficProvider, target: TrafficTarget, action: Action, seen: RouterSnapshot | null): Promise<void> {
  switch (action.type) {
    case 'ensureCanary':
      return workload.ensureCanary(target, { weight: action.weight, image: action.image, version: action.version });
    case 'setWeight':
      // Sizing first: a route must never send a weight to a canary that has fewer pods than the weight needs. Weight 0
      // without a header route is traffic going back to the stable: no canary is made for it.
      if (action.weight > 0 || action.headerRoute) {
        await workload.ensureCanary(target, { weight: action.weight, image: action.image, version: action.version });
      }
      return router.setWeight(target, action.weight, action.headerRoute, seen);
    case 'promoteStable':
      return workload.promote(target, { image: action.image, version: action.version });
    case 'promoteSelector':
      return router.promoteSelector(target, action.version, seen);
    case 'finalizeRoute':
      return router.finalize(target, seen);
    case 'deleteCanary':
      return workload.deleteCanary(target);
    case 'restoreStable':
      return workload.restore(target, action.snapshot);
    case 'ensureBaseline':
      return clusters.baselines(target.cluster).ensure(target, {
        replicas: 'replicas' in action.size ? action.size.replicas : router.canaryReplicas(action.size.weight, action.size.stableReplicas),
        image: action.image,
        stableVersion: action.stableVersion,
      });
    case 'deleteBaseline':
      return clusters.baselines(target.cluster).delete(target);
    default:
      // A new action type must be carried out here, or it would be recorded as done without touching the cluster.
      return assertNever(action, 'action');
  }
}

/** The actions that write the router's objects: the first of them in a tick may use what the router observed. */
const ROUTER_ACTIONS: ReadonlySet<Action['type']> = new Set(['setWeight', 'promoteSelector', 'finalizeRoute']);

/** Carries out the actions: in order within a cluster, clusters in parallel. A failure stops that cluster's list. */
async function act(deps: TickDeps, plan: Plan, actions: Action[], snapshots: Snapshots): Promise<ActionResult[]> {
  const byCluster = new Map<string, Action[]>();
  for (const action of actions) byCluster.set(action.cluster, [...(byCluster.get(action.cluster) ?? []), action]);
  const results: ActionResult[] = [];
  await Promise.all(
    [...byCluster].map(async ([cluster, list]) => {
      let seen = snapshots.get(cluster) ?? null;
      for (const action of list) {
        try {
          if (!deps.clusters.has(cluster)) throw new Error(`cluster ${cluster} is no longer in the clusters file`);
          const routeWrite = ROUTER_ACTIONS.has(action.type);
          await perform(deps.clusters, clusterProvider(deps, plan, cluster), targetOf(plan, cluster), action, routeWrite ? seen : null);
          if (routeWrite) seen = null;
          results.push({ action, ok: true });
        } catch (err) {
          if (err instanceof LeaseLostError) throw err;
          const error = kubeErrorOf(err, cluster, action.type);
          results.push({ action, ok: false, kind: error.kind, message: error.message });
          break;
        }
      }
    }),
  );
  return results;
}

// --- persist and schedule --------------------------------------------------------------------------------------------

function nextTickDate(wakeAt: number | null): Date | null {
  return wakeAt === null ? null : new Date(wakeAt);
}

/** Somebody wrote the rollout after this tick read it: the tick's decision is dropped, never written over theirs. */
class StaleStateError extends Error {
  override name = 'StaleStateError';
}

/** Writes `decision` over `expectedVersion`; with `acting`, as the record of a decision about to be carried out. */
async function persist(
  deps: TickDeps,
  record: TickRecord,
  expectedVersion: number,
  lease: TickLease,
  decision: Decision,
  acting: boolean,
): Promise<{ version: number; deliveries: string[] }> {
  // The deliveries these events cause are written by the same statement: committed together, or not at all.
  const deliveries = deps.outbox?.deliveriesOf(record, decision.events) ?? [];
  const version = await persistTick(deps.pool, {
    id: record.id,
    expectedVersion,
    state: decision.state,
    nextTickAt: nextTickDate(decision.wakeAt),
    lease: { owner: lease.owner, token: lease.token, acting },
    events: decision.events,
    samples: decision.samples,
    judgements: decision.judgements,
    outcomes: decision.commandOutcomes,
    deliveries,
  });
  if (version === undefined) throw new StaleStateError(`rollout ${record.id} moved past version ${expectedVersion}`);
  // The next tick of this rollout in this process starts from this state without reading it back.
  if (isTerminal(decision.state.phase)) deps.cache.forget(record.id);
  else deps.cache.rememberState(record.id, version, decision.state);
  return { version, deliveries: deliveries.map((d) => d.id) };
}

export async function schedule(queues: JobQueues, rolloutId: string, version: number, wakeAt: number | null): Promise<void> {
  if (wakeAt === null) return;
  await queues.enqueue(
    'tick',
    { rolloutId, reason: 'scheduled', dueAt: wakeAt, version },
    { delay: wakeAt - Date.now(), jobId: scheduledTickId(rolloutId, version) },
  );
}

function countTransitions(decision: Decision): void {
  for (const event of decision.events) {
    const [kind, to] = event.type.split('.');
    if (kind === 'rollout' || kind === 'cluster' || kind === 'wave') rolloutTransitionsTotal.inc({ kind, to: to ?? '' });
  }
  for (const sample of decision.samples) {
    analysisVerdictsTotal.inc({ cluster: sample.cluster, metric: sample.metric, verdict: sample.verdict });
  }
}
