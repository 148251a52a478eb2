/**
 * How a rollout moves traffic in one cluster, split the way Flagger splits its canary controllers from its routers:
 *
 * - the workload side makes the canary Deployment from the stable's template, promotes the stable and restores it;
 * - the router side owns the routing objects: it sets the canary's weight and header route, reads back what is in
 *   force, and on finalize puts the user's objects back as they were.
 *
 * The engine speaks to both in traffic percentages; only the router knows whether a weight means pods (replicas) or
 * route weights (Gateway API, Istio). Every write is desired state, safe to repeat after a crash. Failures are
 * classified KubeErrors; the engine's next tick retries the retryable ones.
 */
import type { HeaderMatch, ProviderKind } from '../../spec/traffic.ts';
import type { WorkloadObservation, WorkloadTarget } from '../workload.ts';

export type { HeaderMatch, ProviderKind } from '../../spec/traffic.ts';

/** The routing objects a router works on, from the rollout file's `traffic` block. */
export interface RouteNames {
  /** The app's Service; the router adds `<service>-stable` and `<service>-canary` beside it. */
  service?: string;
  httpRoute?: string;
  virtualService?: string;
}

export interface TrafficTarget extends WorkloadTarget {
  route: RouteNames;
}

/** What the routing objects say now. */
export interface TrafficObservation {
  /** The canary weight, in percent, that the routing objects hold; 0 when Oleada's routing is not in place. */
  weight: number;
  /** The share of traffic the canary gets by that weight, in percent (replicas: by whole pods). */
  share: number;
  /** The header match routed to the canary; null when there is none. */
  headerRoute: HeaderMatch[] | null;
  /** The route's controllers took the last write (every parent Accepted at the current generation). */
  settled: boolean;
  /** Why it is not settled, or what is wrong with the user's objects, in words a person can act on. */
  message: string | null;
  /** Oleada's routing is on the user's objects (rewritten route, or its own Services still there): finalize has work. */
  inPlace: boolean;
  /** The routing objects differ from what Oleada wrote for this weight and header route (an edit, or a crash between two writes). */
  drifted: boolean;
  /** The version the stable Service selects; null without one (replicas, or before the first write). */
  stableVersion: string | null;
  /** A problem that waiting cannot fix (a missing route, no rule pointing at the Service): the cluster fails with it. */
  invalid: string | null;
}

/** A workload observation with the traffic in force beside it: what a tick observes of one cluster. */
export interface ClusterObservation extends WorkloadObservation {
  traffic: TrafficObservation;
}

/** The canary to make: sized for `weight` by the router, or to exactly `replicas` pods (at least one must be given). */
export interface CanaryDesired {
  weight?: number;
  replicas?: number;
  image: string;
  version: string;
}

export interface WorkloadSide {
  observe(target: WorkloadTarget): Promise<WorkloadObservation>;
  /** Creates or updates `<name>-canary` from the stable's current pod template, sized for the weight by `sizing`. */
  ensureCanary(target: WorkloadTarget, desired: CanaryDesired): Promise<void>;
  /** Sets the new image and version label on the stable Deployment's pod template. */
  promote(target: WorkloadTarget, desired: { image: string; version: string }): Promise<void>;
  /** Deletes the canary Deployment; one that is already gone is success. */
  deleteCanary(target: WorkloadTarget): Promise<void>;
  /** Puts the stable back as the snapshot says: image, version label (removed when null) and replicas. */
  restore(target: WorkloadTarget, snapshot: { image: string; replicas: number; version: string | null }): Promise<void>;
}

/**
 * The objects a router read in `observe`, handed back to its first write of the same tick so that the write need not
 * read them again (each read is a token of the cluster's client rate limit, and a command's route write waits for all
 * of them). Opaque outside the router that made it; a write given one from another router or target reads afresh.
 * Safe because every route write carries the resourceVersion read: a write in between is a conflict and a fresh read.
 */
export interface RouterSnapshot {
  readonly provider: ProviderKind;
}

/** What `observe` gives: the traffic in force, and what was read to find it (null when the router reads nothing). */
export interface RouterReading {
  traffic: TrafficObservation;
  snapshot: RouterSnapshot | null;
}

export interface Router {
  readonly kind: ProviderKind;
  /** How many canary pods `weight` percent needs next to `stableReplicas` stable pods. Pure. */
  canaryReplicas(weight: number, stableReplicas: number): number;
  /** The traffic in force, read from the routing objects (replicas: from the pods the workload side saw). */
  observe(target: TrafficTarget, workload: WorkloadObservation): Promise<RouterReading>;
  /**
   * Brings the routing objects to this weight and header route, creating the Services it needs. `seen`, from this
   * tick's `observe`, saves reading the objects again; without it they are read.
   */
  setWeight(target: TrafficTarget, weight: number, headerRoute: HeaderMatch[] | null, seen?: RouterSnapshot | null): Promise<void>;
  /** Points the stable Service at the new version's pods (after promotion, before traffic returns to the stable). */
  promoteSelector(target: TrafficTarget, version: string, seen?: RouterSnapshot | null): Promise<void>;
  /** Puts the user's routing objects back as they were before the rollout and deletes what the router created. */
  finalize(target: TrafficTarget, seen?: RouterSnapshot | null): Promise<void>;
}

/** One cluster's provider: its workload side and its router, chosen together by `createProvider`. */
export interface TrafficProvider {
  readonly kind: ProviderKind;
  readonly workload: WorkloadSide;
  readonly router: Router;
}
