/** Setting up a routed app on kube-sim: the user's HTTPRoute, and Prometheus's view of the canary's share. */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { PrometheusClient } from '../../../src/analysis/prometheus.ts';
import { DIRECT_TRAFFIC_ANNOTATION } from '../../../src/sim/traffic.ts';
import type { Stack } from '../../support/stack.ts';
import { services } from '../../support/services.ts';

export const GROUP = 'gateway.networking.k8s.io';

/** The HTTPRoute a team would have before using Oleada: every request to /, through gateway `web`, to Service checkout. */
export function userRoute(): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: { name: 'checkout', namespace: 'shop', annotations: { 'owner.example.com/team': 'payments' } },
    spec: {
      parentRefs: [{ name: 'web', namespace: 'infra' }],
      hostnames: ['shop.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], timeouts: { request: '10s' }, backendRefs: [{ name: 'checkout', port: 80 }] }],
    },
  };
}

/** Creates the user's route and makes the app's Service take traffic only through it, as behind a gateway. */
export async function routeThroughGateway(stack: Stack, cluster: string): Promise<void> {
  const client = stack.runtime.clusters.get(cluster).client;
  await client.call({ verb: 'create', resource: 'httproutes' }, (apis, options) =>
    apis.custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'shop', plural: 'httproutes', body: userRoute() }, options),
  );
  await client.call({ verb: 'patch', resource: 'services' }, (apis, options) =>
    apis.core.patchNamespacedService(
      { namespace: 'shop', name: 'checkout', body: { metadata: { annotations: { [DIRECT_TRAFFIC_ANNOTATION]: 'false' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
    ),
  );
}

export function routeSpec(stack: Stack, cluster: string): unknown {
  return (stack.sim.cluster(cluster).get('httproutes', 'shop', 'checkout') as { spec?: unknown } | undefined)?.spec;
}

export function routeAnnotations(stack: Stack, cluster: string): Record<string, string> {
  return (stack.sim.cluster(cluster).get('httproutes', 'shop', 'checkout') as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ?? {};
}

/** The canary's share of the app's requests in percent, as Prometheus saw it over `window`. */
export async function canaryShare(cluster: string, version: string, window = '10s'): Promise<number | null> {
  const prometheus = new PrometheusClient(services().prometheusUrl);
  const query =
    `100 * sum(rate(http_requests_total{cluster="${cluster}",namespace="shop",app="checkout",version="${version}"}[${window}]))` +
    ` / sum(rate(http_requests_total{cluster="${cluster}",namespace="shop",app="checkout"}[${window}]))`;
  const result = await prometheus.query(query);
  return result.kind === 'value' ? result.value : null;
}
