import type { KubeClient } from '../client.ts';
import { desiredVirtualServiceSpec, readVirtualService, virtualServicePatch } from './istio-route.ts';
import { RoutedRouter, type RouteKind } from './routed.ts';

/** The user's VirtualService (networking.istio.io/v1), rewritten by istio-route.ts. */
export const VIRTUAL_SERVICE: RouteKind = {
  provider: 'istio',
  objectKind: 'VirtualService',
  field: 'virtualService',
  ref: (namespace, name) => ({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace, name }),
  desired: desiredVirtualServiceSpec,
  read: readVirtualService,
  rewritePatch: virtualServicePatch,
};

/**
 * The `istio` router: works on the user's own VirtualService, pointing its http routes at `<service>-stable` and
 * `<service>-canary` with weights, as Flagger's Istio router does with subsets. Reading and writing, and the order of
 * the writes, are the routed routers' (routed.ts); the rewriting is in istio-route.ts.
 */
export class IstioRouter extends RoutedRouter {
  constructor(client: KubeClient) {
    super(client, VIRTUAL_SERVICE);
  }
}
