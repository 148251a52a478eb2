/**
 * The two routers as the traffic tests see them: what differs between a Gateway API HTTPRoute and an Istio
 * VirtualService (the user's object, its resource in kube-sim's audit, how its split reads and is edited), so that one
 * test body covers both (router.test.ts, header-route.test.ts, worker-killed.test.ts).
 */
import type { Stack } from '../../support/stack.ts';
import { destinations, ISTIO, routeThroughMesh, virtualService } from './istio-support.ts';
import { GROUP, routeAnnotations, routeSpec, routeThroughGateway } from './support.ts';

export interface RouterVariant {
  provider: 'gateway-api' | 'istio';
  /** The rollout file's `traffic`. */
  traffic: Record<string, string>;
  /** The object's name in kube-sim's audit. */
  resource: string;
  /** What the object is called in the engine's messages. */
  kind: string;
  /** Creates the user's routing object and makes the app's Service take traffic only through it. */
  setup(stack: Stack, cluster: string): Promise<void>;
  spec(stack: Stack, cluster: string): unknown;
  annotations(stack: Stack, cluster: string): Record<string, string>;
  /** The split route's backends as [Service name, weight]. */
  split(stack: Stack, cluster: string): [string, number | undefined][];
  /** Writes the split's two weights as a person with kubectl would, through the API server. */
  editWeights(stack: Stack, cluster: string, stable: number, canary: number): Promise<void>;
  /** The first route entry without its backends: the user's own fields, which the split must keep. */
  userFields(spec: unknown): unknown;
  /** A controller's message for an object it will not accept (kube-sim's `rejectRoutes`), and the cluster's failure reason. */
  rejection: { message: string; reason: string };
}

type HttpRoute = { spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] } };
type MeshRoute = { spec: { http: { route: { weight?: number }[] }[] } };

const HTTP_ROUTE_REF = { group: GROUP, version: 'v1', plural: 'httproutes', namespace: 'shop', name: 'checkout' };
const VIRTUAL_SERVICE_REF = { ...ISTIO, namespace: 'shop', name: 'checkout' };

export const GATEWAY_API: RouterVariant = {
  provider: 'gateway-api',
  traffic: { provider: 'gateway-api', service: 'checkout', httpRoute: 'checkout' },
  resource: 'httproutes.gateway.networking.k8s.io',
  kind: 'HTTPRoute',
  setup: routeThroughGateway,
  spec: routeSpec,
  annotations: routeAnnotations,
  split: (stack, cluster) => (routeSpec(stack, cluster) as HttpRoute['spec']).rules[0]!.backendRefs.map((r) => [r.name, r.weight]),
  async editWeights(stack, cluster, stable, canary) {
    const client = stack.runtime.clusters.get(cluster).client;
    const live = (await client.getCustomObject(HTTP_ROUTE_REF)) as HttpRoute;
    const rules = structuredClone(live.spec.rules);
    rules[0]!.backendRefs[0]!.weight = stable;
    rules[0]!.backendRefs[1]!.weight = canary;
    await client.mergePatchCustomObject(HTTP_ROUTE_REF, { spec: { rules } });
  },
  userFields: (spec) => {
    const { backendRefs: _, ...rest } = (spec as HttpRoute['spec']).rules[0]!;
    return rest;
  },
  rejection: {
    message: 'listener https does not allow routes from namespace shop',
    reason: 'HTTPRoute shop/checkout is not accepted by gateway web (NotAllowedByListeners: listener https does not allow routes from namespace shop)',
  },
};

export const ISTIO_ROUTER: RouterVariant = {
  provider: 'istio',
  traffic: { provider: 'istio', service: 'checkout', virtualService: 'checkout' },
  resource: 'virtualservices.networking.istio.io',
  kind: 'VirtualService',
  setup: routeThroughMesh,
  spec: (stack, cluster) => virtualService(stack, cluster).spec,
  annotations: (stack, cluster) => virtualService(stack, cluster).metadata.annotations ?? {},
  // Destinations are FQDNs (checkout-canary.shop.svc.cluster.local): the Service's name is the first label.
  split: (stack, cluster) => destinations(stack, cluster).map(([host, weight]) => [host.split('.')[0]!, weight]),
  async editWeights(stack, cluster, stable, canary) {
    const client = stack.runtime.clusters.get(cluster).client;
    const live = (await client.getCustomObject(VIRTUAL_SERVICE_REF)) as MeshRoute;
    const http = structuredClone(live.spec.http);
    http[0]!.route[0]!.weight = stable;
    http[0]!.route[1]!.weight = canary;
    await client.mergePatchCustomObject(VIRTUAL_SERVICE_REF, { spec: { http } });
  },
  userFields: (spec) => {
    const { route: _, ...rest } = (spec as MeshRoute['spec']).http[0]!;
    return rest;
  },
  rejection: { message: '2/3 proxies up to date.', reason: 'VirtualService shop/checkout is not reconciled by istiod (2/3 proxies up to date.)' },
};

export const ROUTERS: RouterVariant[] = [GATEWAY_API, ISTIO_ROUTER];
