/** Setting up a meshed app on kube-sim: the user's VirtualService, through which every request to checkout goes. */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { DIRECT_TRAFFIC_ANNOTATION } from '../../../src/sim/traffic.ts';
import type { Stack } from '../../support/stack.ts';

export const ISTIO = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' } as const;

/** The VirtualService a team would have before using Oleada: all of shop.example.com to checkout, with retries and a timeout. */
export function userVirtualService(): Record<string, unknown> {
  return {
    apiVersion: `${ISTIO.group}/${ISTIO.version}`,
    kind: 'VirtualService',
    metadata: { name: 'checkout', namespace: 'shop', annotations: { 'owner.example.com/team': 'payments' } },
    spec: {
      hosts: ['shop.example.com'],
      gateways: ['infra/web'],
      http: [
        {
          name: 'api',
          match: [{ uri: { prefix: '/' } }],
          retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' },
          timeout: '10s',
          route: [{ destination: { host: 'checkout.shop.svc.cluster.local', port: { number: 80 } } }],
        },
      ],
    },
  };
}

/** Creates the user's VirtualService and makes the app's Service take traffic only through it, as behind the mesh's gateway. */
export async function routeThroughMesh(stack: Stack, cluster: string): Promise<void> {
  const client = stack.runtime.clusters.get(cluster).client;
  await client.call({ verb: 'create', resource: 'virtualservices' }, (apis, options) =>
    apis.custom.createNamespacedCustomObject({ ...ISTIO, namespace: 'shop', body: userVirtualService() }, options),
  );
  await client.call({ verb: 'patch', resource: 'services' }, (apis, options) =>
    apis.core.patchNamespacedService(
      { namespace: 'shop', name: 'checkout', body: { metadata: { annotations: { [DIRECT_TRAFFIC_ANNOTATION]: 'false' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
    ),
  );
}

type VirtualService = { metadata: { annotations?: Record<string, string>; generation?: number }; spec?: { http: { route: { destination: { host: string }; weight?: number }[] }[] }; status?: unknown };

export function virtualService(stack: Stack, cluster: string): VirtualService {
  return stack.sim.cluster(cluster).get('virtualservices', 'shop', 'checkout') as VirtualService;
}

/** The split route's destinations as [host, weight]. */
export function destinations(stack: Stack, cluster: string, entry = 0): [string, number | undefined][] {
  return virtualService(stack, cluster).spec!.http[entry]!.route.map((r) => [r.destination.host, r.weight]);
}
