import type { KubeClient } from '../client.ts';
import { desiredRouteSpec, readRoute, rewritePatch } from './gateway-route.ts';
import { RoutedRouter, type RouteKind } from './routed.ts';

/** The user's HTTPRoute (gateway.networking.k8s.io/v1), rewritten by gateway-route.ts. */
export const HTTP_ROUTE: RouteKind = {
  provider: 'gateway-api',
  objectKind: 'HTTPRoute',
  field: 'httpRoute',
  ref: (namespace, name) => ({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace, name }),
  desired: desiredRouteSpec,
  read: readRoute,
  rewritePatch,
};

/**
 * The `gateway-api` router: works on the user's own HTTPRoute, as Argo Rollouts' Gateway API plugin does. Reading and
 * writing are the routed routers' (routed.ts); the rewriting is in gateway-route.ts.
 */
export class GatewayRouter extends RoutedRouter {
  constructor(client: KubeClient) {
    super(client, HTTP_ROUTE);
  }
}
