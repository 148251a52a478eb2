/** The one place a cluster's traffic provider is chosen. */
import type { KubeClient } from '../client.ts';
import { DeploymentWorkload } from './deployments.ts';
import { GatewayRouter } from './gateway.ts';
import { IstioRouter } from './istio.ts';
import { ReplicasRouter } from './replicas.ts';
import type { ProviderKind, Router, TrafficProvider } from './types.ts';

export type { ClusterObservation, HeaderMatch, ProviderKind, RouteNames, RouterSnapshot, TrafficObservation, TrafficProvider, TrafficTarget } from './types.ts';
export { PROVIDER_KINDS } from '../../spec/traffic.ts';

function createRouter(kind: ProviderKind, client: KubeClient): Router {
  switch (kind) {
    case 'replicas':
      return new ReplicasRouter();
    case 'gateway-api':
      return new GatewayRouter(client);
    case 'istio':
      return new IstioRouter(client);
  }
}

export function createProvider(kind: ProviderKind, client: KubeClient): TrafficProvider {
  const router = createRouter(kind, client);
  return { kind, router, workload: new DeploymentWorkload(client, (weight, stable) => router.canaryReplicas(weight, stable)) };
}
