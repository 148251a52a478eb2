// A simulated Gateway API controller and Istio control plane: they do not route (traffic.ts does that), they only
// report, as the real ones do, whether they took a route. An HTTPRoute gets status.parents with Accepted and
// ResolvedRefs conditions per parentRef at the route's generation; a VirtualService gets istiod's Reconciled condition
// and status.observedGeneration. The fault control `rejectRoutes` makes routes not Accepted, with a message, to test
// what Oleada does with a route no gateway takes.
import { isPlainObject, type KubeObject } from './objects.ts';
import type { ResourceType } from './resources.ts';
import { specOf, statusOf, workKey, type ClusterRuntime } from './runtime.ts';
import type { StoreEvent } from './store.ts';

export const GATEWAY_CONTROLLER_NAME = 'kube-sim.oleada.dev/gateway-controller';

export class RouteStatusController {
  /** Refused routes: `namespace/name`, or `*` for all, with the message their condition carries. */
  private readonly rejected = new Map<string, string>();

  constructor(private readonly rt: ClusterRuntime) {}

  /** Looked up on use: the route CRDs are registered when the cluster is bootstrapped, after the controllers exist. */
  private get types(): { httpRoutes: ResourceType | undefined; virtualServices: ResourceType | undefined } {
    return {
      httpRoutes: this.rt.resources.byKey('httproutes.gateway.networking.k8s.io'),
      virtualServices: this.rt.resources.byKey('virtualservices.networking.istio.io'),
    };
  }

  observe(event: StoreEvent): void {
    if (event.type === 'DELETED') return;
    const { namespace, name } = event.object.metadata;
    const { httpRoutes, virtualServices } = this.types;
    if (event.resource === httpRoutes) this.rt.queue.add(workKey('httproute', namespace, name!));
    if (event.resource === virtualServices) this.rt.queue.add(workKey('virtualservice', namespace, name!));
  }

  /** Makes the route (every route without a name) not Accepted with this message; null accepts it again. */
  reject(message: string | null, route?: { namespace: string; name: string }): void {
    const key = route ? `${route.namespace}/${route.name}` : '*';
    if (message === null) this.rejected.delete(key);
    else this.rejected.set(key, message);
    this.resyncAll();
  }

  /** The refusals in force: a route (`namespace/name`, or `*` for every route) and its message. */
  refusals(): { route: string; message: string }[] {
    return [...this.rejected].map(([route, message]) => ({ route, message }));
  }

  reset(): void {
    if (this.rejected.size === 0) return;
    this.rejected.clear();
    this.resyncAll();
  }

  private resyncAll(): void {
    for (const [type, controller] of [[this.types.httpRoutes, 'httproute'], [this.types.virtualServices, 'virtualservice']] as const) {
      if (!type) continue;
      for (const route of this.rt.store.each(type)) this.rt.queue.add(workKey(controller, route.metadata.namespace, route.metadata.name!));
    }
  }

  private refusal(route: KubeObject): string | undefined {
    return this.rejected.get(`${route.metadata.namespace}/${route.metadata.name}`) ?? this.rejected.get('*');
  }

  reconcileHttpRoute(namespace: string, name: string): void {
    const type = this.types.httpRoutes;
    const route = type ? this.rt.store.get(type, namespace, name) : undefined;
    if (!type || !route) return;
    const generation = route.metadata.generation ?? 1;
    const refusal = this.refusal(route);
    const refs = Array.isArray(specOf(route).parentRefs) ? (specOf(route).parentRefs as unknown[]).filter(isPlainObject) : [];
    const missing = this.missingBackends(route);
    const previous = Array.isArray(statusOf(route).parents) ? (statusOf(route).parents as unknown[]).filter(isPlainObject) : [];
    const parents = refs.map((parentRef, index) => {
      const conditions = [
        condition('Accepted', refusal === undefined, refusal === undefined ? 'Accepted' : 'NotAllowedByListeners', refusal ?? 'Route is accepted', generation),
        condition('ResolvedRefs', missing.length === 0, missing.length === 0 ? 'ResolvedRefs' : 'BackendNotFound', missing.length === 0 ? 'All references resolved' : `Service ${missing.join(', ')} not found`, generation),
      ];
      return { parentRef, controllerName: GATEWAY_CONTROLLER_NAME, conditions: keepTransitionTimes(conditions, previous[index]) };
    });
    if (JSON.stringify(parents) === JSON.stringify(previous)) return;
    this.rt.store.update(type, { ...route, status: { ...statusOf(route), parents } });
  }

  /**
   * istiod's status, as it writes it with status reporting on: one `Reconciled` condition (True once every proxy has
   * the config, with "N/N proxies up to date."; no reason) and `observedGeneration` as a string, protobuf's JSON form of
   * an int64. A refused VirtualService stays Reconciled=False with the refusal as its message, as one that proxies
   * keep rejecting does.
   */
  reconcileVirtualService(namespace: string, name: string): void {
    const type = this.types.virtualServices;
    const vs = type ? this.rt.store.get(type, namespace, name) : undefined;
    if (!type || !vs) return;
    const refusal = this.refusal(vs);
    const proxies = [...this.rt.store.each(this.rt.types.pods)].length;
    const previous = Array.isArray(statusOf(vs).conditions) ? (statusOf(vs).conditions as unknown[]).filter(isPlainObject) : [];
    const now = new Date().toISOString();
    const conditions = keepTransitionTimes(
      [{ type: 'Reconciled', status: refusal === undefined ? 'True' : 'False', lastProbeTime: now, lastTransitionTime: now, message: refusal ?? `${proxies}/${proxies} proxies up to date.` }],
      { conditions: previous },
    );
    const status = { ...statusOf(vs), conditions, observedGeneration: String(vs.metadata.generation ?? 1) };
    // Probing again is no news: only a change of condition, message or generation is written.
    const withoutProbe = (s: Record<string, unknown>) => JSON.stringify({ ...s, conditions: (Array.isArray(s.conditions) ? s.conditions.filter(isPlainObject) : []).map(({ lastProbeTime: _p, ...c }) => c) });
    if (withoutProbe(status) === withoutProbe(statusOf(vs))) return;
    this.rt.store.update(type, { ...vs, status });
  }

  private missingBackends(route: KubeObject): string[] {
    const missing: string[] = [];
    const rules = Array.isArray(specOf(route).rules) ? (specOf(route).rules as unknown[]).filter(isPlainObject) : [];
    for (const rule of rules) {
      const refs = Array.isArray(rule.backendRefs) ? rule.backendRefs.filter(isPlainObject) : [];
      for (const ref of refs) {
        if ((ref.kind ?? 'Service') !== 'Service') continue;
        const ns = typeof ref.namespace === 'string' ? ref.namespace : (route.metadata.namespace ?? '');
        if (!this.rt.store.get(this.rt.types.services, ns, String(ref.name))) missing.push(`${ns}/${String(ref.name)}`);
      }
    }
    return [...new Set(missing)];
  }
}

function condition(type: string, ok: boolean, reason: string, message: string, observedGeneration: number): Record<string, unknown> {
  return { type, status: ok ? 'True' : 'False', reason, message, observedGeneration, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
}

/** A condition whose status did not change keeps its lastTransitionTime, as Kubernetes conditions do. */
function keepTransitionTimes(conditions: Record<string, unknown>[], previous: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const old = previous && Array.isArray(previous.conditions) ? previous.conditions.filter(isPlainObject) : [];
  return conditions.map((c) => {
    const before = old.find((o) => o.type === c.type);
    return before && before.status === c.status ? { ...c, lastTransitionTime: before.lastTransitionTime } : c;
  });
}
