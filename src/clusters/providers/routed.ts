/**
 * The part of the gateway-api and istio routers that is the same: both work on one routing object of the user's (an
 * HTTPRoute, a VirtualService) and point it at `<service>-stable` and `<service>-canary`. This class reads and writes,
 * in an order that never routes to a Service that does not exist: the Services first, then the route. What a weight
 * looks like inside the route is the `RouteKind`'s (gateway-route.ts, istio-route.ts), as pure functions.
 */
import type { V1Service } from '@kubernetes/client-node';
import { canonicalJson } from '../canary-template.ts';
import type { CustomObjectRef, KubeClient } from '../client.ts';
import { KubeError } from '../errors.ts';
import { VERSION_LABEL } from '../workload.ts';
import { retryOnConflict } from './conflict.ts';
import { restorePatch, type Json, type RouteObject, type RouteReading, type RouteWanted, type Rewrite } from './route-object.ts';
import { buildRouteServices, canaryServiceName, selectedVersion, stableServiceName } from './route-services.ts';
import type { HeaderMatch, Router, RouterReading, RouterSnapshot, TrafficObservation, TrafficTarget } from './types.ts';

/** How many canary pods a routed weight needs: its share of the stable's pods, at least one (header routes need it). */
export function routedCanaryReplicas(weight: number, stableReplicas: number): number {
  return Math.max(1, Math.ceil((Math.max(0, stableReplicas) * weight) / 100));
}

/** One kind of routing object: where it lives, and the pure rewriting of it. */
export interface RouteKind {
  readonly provider: 'gateway-api' | 'istio';
  /** The object's kind, as messages name it. */
  readonly objectKind: string;
  /** The rollout file's `traffic.<field>` that names the object. */
  readonly field: 'httpRoute' | 'virtualService';
  ref(namespace: string, name: string): CustomObjectRef;
  desired(route: RouteObject, wanted: RouteWanted): Rewrite;
  read(route: RouteObject, service: string): RouteReading;
  rewritePatch(route: RouteObject, spec: Json, headerRoute: HeaderMatch[] | null): Json;
}

/** The route and the three Services as `observe` read them, for the same tick's first write (types.ts, RouterSnapshot). */
class RoutedSnapshot implements RouterSnapshot {
  constructor(
    readonly provider: 'gateway-api' | 'istio',
    /** `<namespace>/<service>/<route>`: a snapshot serves only the target it was read for. */
    readonly key: string,
    readonly route: RouteObject | null,
    readonly app: V1Service | null,
    readonly stable: V1Service | null,
    readonly canary: V1Service | null,
  ) {}
}

interface ServicesRead {
  app: V1Service | null;
  stable: V1Service | null;
  canary: V1Service | null;
}

export class RoutedRouter implements Router {
  readonly kind: 'gateway-api' | 'istio';

  constructor(
    private readonly client: KubeClient,
    private readonly route: RouteKind,
  ) {
    this.kind = route.provider;
  }

  canaryReplicas(weight: number, stableReplicas: number): number {
    return routedCanaryReplicas(weight, stableReplicas);
  }

  async observe(target: TrafficTarget): Promise<RouterReading> {
    const { service, ref } = this.names(target);
    const [live, { app, stable, canary }] = await Promise.all([this.client.getCustomObject(ref), this.readServices(target, service)]);
    const snapshot = new RoutedSnapshot(this.kind, this.key(target, service, ref), live as RouteObject | null, app, stable, canary);
    return { traffic: this.traffic(target, service, ref, snapshot), snapshot };
  }

  private traffic(target: TrafficTarget, service: string, ref: CustomObjectRef, { route: live, app, stable, canary }: RoutedSnapshot): TrafficObservation {
    const base = { share: 0, headerRoute: null, settled: false, message: null, drifted: false, stableVersion: selectedVersion(stable) };
    if (!live) return { ...base, weight: 0, inPlace: stable !== null || canary !== null, invalid: this.missingRoute(target, ref) };
    if (!app) return { ...base, weight: 0, inPlace: stable !== null || canary !== null, invalid: this.missingService(target, service) };
    const route = live as RouteObject;
    const check = this.route.desired(route, { service, weight: 0, headerRoute: null });
    const reading = this.route.read(route, service);
    // A route rewritten without both Services (a crash between the writes, or someone deleted one) is repaired.
    const servicesMissing = reading.inPlace && (stable === null || canary === null);
    return {
      weight: reading.weight,
      share: reading.weight,
      headerRoute: reading.headerRoute,
      settled: reading.accepted,
      message: reading.message,
      inPlace: reading.inPlace || stable !== null || canary !== null,
      drifted: reading.drifted || servicesMissing,
      stableVersion: selectedVersion(stable),
      invalid: check.ok ? null : `${target.cluster}: ${check.problem}`,
    };
  }

  async setWeight(target: TrafficTarget, weight: number, headerRoute: HeaderMatch[] | null, seen?: RouterSnapshot | null): Promise<void> {
    const { service, ref } = this.names(target);
    const snapshot = this.snapshotFor(target, service, ref, seen);
    await this.ensureServices(target, service, null, snapshot);
    await retryOnConflict(async (retry) => {
      // The observed route on the first try; a conflict means it went stale, so the retries read it.
      const live = snapshot && !retry ? snapshot.route : await this.client.getCustomObject(ref);
      if (!live) throw this.invalid(this.missingRoute(target, ref));
      const route = live as RouteObject;
      const wanted = this.route.desired(route, { service, weight, headerRoute });
      if (!wanted.ok) throw this.invalid(`${target.cluster}: ${wanted.problem}`);
      const reading = this.route.read(route, service);
      if (reading.inPlace && !reading.drifted && reading.weight === weight && canonicalJson(reading.headerRoute) === canonicalJson(headerRoute)) return;
      await this.client.mergePatchCustomObject(ref, this.route.rewritePatch(route, wanted.spec, headerRoute));
    });
  }

  async promoteSelector(target: TrafficTarget, version: string, seen?: RouterSnapshot | null): Promise<void> {
    const { service, ref } = this.names(target);
    await this.ensureServices(target, service, version, this.snapshotFor(target, service, ref, seen));
  }

  async finalize(target: TrafficTarget, seen?: RouterSnapshot | null): Promise<void> {
    const { service, ref } = this.names(target);
    const snapshot = this.snapshotFor(target, service, ref, seen);
    await retryOnConflict(async (retry) => {
      const live = snapshot && !retry ? snapshot.route : await this.client.getCustomObject(ref);
      const patch = live ? restorePatch(live as RouteObject) : null;
      if (patch) await this.client.mergePatchCustomObject(ref, patch);
    });
    // Only once nothing routes to them.
    await this.client.deleteService(target.namespace, canaryServiceName(service));
    await this.client.deleteService(target.namespace, stableServiceName(service));
  }

  /**
   * Creates `<service>-stable` and `<service>-canary` when missing or different. The stable keeps the version it
   * selects until `version` moves it (promotion); a new one selects the stable Deployment's current version.
   */
  private async ensureServices(target: TrafficTarget, service: string, version: string | null, seen: RoutedSnapshot | null): Promise<void> {
    const { app, stable, canary } = seen ?? (await this.readServices(target, service));
    if (!app) throw this.invalid(this.missingService(target, service));
    let stableVersion = version ?? selectedVersion(stable);
    if (stableVersion === null) {
      const deployment = await this.client.getDeployment(target.namespace, target.name);
      stableVersion = deployment?.spec?.template?.metadata?.labels?.[VERSION_LABEL] ?? null;
    }
    const built = buildRouteServices(app, stableVersion);
    if (!built.ok) throw this.invalid(`${target.cluster}: ${built.problem}`);
    const writes: Promise<unknown>[] = [];
    if (differs(stable, built.stable)) writes.push(this.client.applyService(built.stable));
    if (differs(canary, built.canary)) writes.push(this.client.applyService(built.canary));
    await Promise.all(writes);
  }

  private async readServices(target: TrafficTarget, service: string): Promise<ServicesRead> {
    const [app, stable, canary] = await Promise.all([
      this.client.getService(target.namespace, service),
      this.client.getService(target.namespace, stableServiceName(service)),
      this.client.getService(target.namespace, canaryServiceName(service)),
    ]);
    return { app, stable, canary };
  }

  /** `seen` when this router read it for this target in this tick; otherwise null, and the write reads afresh. */
  private snapshotFor(target: TrafficTarget, service: string, ref: CustomObjectRef, seen: RouterSnapshot | null | undefined): RoutedSnapshot | null {
    return seen instanceof RoutedSnapshot && seen.provider === this.kind && seen.key === this.key(target, service, ref) ? seen : null;
  }

  private key(target: TrafficTarget, service: string, ref: CustomObjectRef): string {
    return `${target.cluster}/${target.namespace}/${service}/${ref.name}`;
  }

  private names(target: TrafficTarget): { service: string; ref: CustomObjectRef } {
    const service = target.route.service;
    const name = target.route[this.route.field];
    if (!service || !name) throw this.invalid(`${target.cluster}: the ${this.kind} provider needs traffic.service and traffic.${this.route.field} in the rollout file`);
    return { service, ref: this.route.ref(target.namespace, name) };
  }

  private missingRoute(target: TrafficTarget, ref: CustomObjectRef): string {
    return `${target.cluster}: ${this.route.objectKind} ${ref.namespace}/${ref.name} was not found: create it, or check traffic.${this.route.field} and namespace in the rollout file`;
  }

  private missingService(target: TrafficTarget, service: string): string {
    return `${target.cluster}: Service ${target.namespace}/${service} was not found: check traffic.service in the rollout file`;
  }

  private invalid(message: string): KubeError {
    return new KubeError({ kind: 'final', reason: 'invalid', cluster: this.client.cluster }, message);
  }
}

function differs(live: V1Service | null, wanted: V1Service): boolean {
  if (!live) return true;
  return canonicalJson({ selector: live.spec?.selector, ports: live.spec?.ports?.map(({ nodePort: _n, ...p }) => p) }) !== canonicalJson({ selector: wanted.spec?.selector, ports: wanted.spec?.ports });
}
