/**
 * A header route on the gateway-api and istio providers, seen by the real Prometheus: kube-sim sends a share of its
 * requests with `X-Canary: 1` (testers), the HTTPRoute's header rule (or the VirtualService's header entry) sends those
 * to the canary, and the metrics' `traffic` label tells them apart. The routing object is the user's again, byte for
 * byte, after promotion and after an abort.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../../src/analysis/prometheus.ts';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { services } from '../../support/services.ts';
import { destinations, virtualService } from './istio-support.ts';
import { GATEWAY_API, ISTIO_ROUTER, type RouterVariant } from './routers.ts';
import { routeSpec } from './support.ts';

const HEADER_ROUTE = { setHeaderRoute: { match: [{ header: 'X-Canary', exact: '1' }] } };
/** One request in five carries the header. */
const TESTERS = [{ name: 'tester', share: 0.2, headers: { 'X-Canary': '1' } }];

/** The header rule's shape, the one thing here that differs between the routers beyond routers.ts. */
interface Variant extends RouterVariant {
  /** Checks the header rule (first, canary only) and the split after it at `weight`. */
  expectHeaderRule(stack: Stack, cluster: string, weight: number): void;
}

const GATEWAY: Variant = {
  ...GATEWAY_API,
  expectHeaderRule(stack, cluster, weight) {
    const rules = (routeSpec(stack, cluster) as { rules: { matches: unknown[]; backendRefs: { name: string; weight: number }[] }[] }).rules;
    expect(rules[0]).toMatchObject({
      matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Canary', value: '1' }] }],
      backendRefs: [{ name: 'checkout-canary', weight: 1 }],
    });
    expect(rules[1]!.backendRefs.map((r) => [r.name, r.weight])).toEqual([
      ['checkout-stable', 100 - weight],
      ['checkout-canary', weight],
    ]);
  },
};

const ISTIO: Variant = {
  ...ISTIO_ROUTER,
  expectHeaderRule(stack, cluster, weight) {
    const [header, split] = virtualService(stack, cluster).spec!.http as unknown as Record<string, unknown>[];
    // The user's match, retries and timeout are kept on both entries; the header entry only adds the header.
    expect(header).toEqual({
      name: 'api-canary-header',
      match: [{ uri: { prefix: '/' }, headers: { 'x-canary': { exact: '1' } } }],
      retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' },
      timeout: '10s',
      route: [{ destination: { host: 'checkout-canary.shop.svc.cluster.local', port: { number: 80 } } }],
    });
    expect(split).toMatchObject({ name: 'api', match: [{ uri: { prefix: '/' } }] });
    expect(destinations(stack, cluster, 1)).toEqual([
      ['checkout-stable.shop.svc.cluster.local', 100 - weight],
      ['checkout-canary.shop.svc.cluster.local', weight],
    ]);
  },
};

/** The canary's share in percent of one class of requests (`tester`, or '' for those without the header) over 10 s. */
async function canaryShareOf(cluster: string, version: string, traffic: string): Promise<number | null> {
  const selector = `cluster="${cluster}",namespace="shop",app="checkout",traffic="${traffic}"`;
  const query = `100 * (sum(rate(http_requests_total{${selector},version="${version}"}[10s])) or vector(0)) / sum(rate(http_requests_total{${selector}}[10s]))`;
  const result = await new PrometheusClient(services().prometheusUrl).query(query);
  return result.kind === 'value' ? result.value : null;
}

for (const variant of [GATEWAY, ISTIO]) {
describe(`a header route on the ${variant.provider} provider`, () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['prod-eu-1', 'prod-us-1'], trafficRate: 100 });
    for (const cluster of stack.clusters) {
      await variant.setup(stack, cluster);
      stack.sim.cluster(cluster).setHeaderTraffic(TESTERS);
    }
  });
  afterAll(async () => {
    await stack?.close();
  });

  /**
   * Waits until Prometheus sees the canary take `testers`% of the testers' requests and `others`% of the rest, within 3
   * points, over a 10 s rate window that lies wholly after `since` (when the routing changed), so the figure is the
   * split itself and not a mix with the one before.
   */
  async function split(cluster: string, version: string, testers: number, others: number, since = Date.now()): Promise<{ testers: number; others: number }> {
    return stack.waitFor(
      `Prometheus to see ${testers}% of testers and ${others}% of the others on the canary`,
      async () => {
        if (Date.now() - since < 11_000) return undefined;
        const seen = { testers: await canaryShareOf(cluster, version, 'tester'), others: await canaryShareOf(cluster, version, '') };
        if (seen.testers === null || seen.others === null) return undefined;
        return Math.abs(seen.testers - testers) <= 3 && Math.abs(seen.others - others) <= 3 ? { testers: seen.testers, others: seen.others } : undefined;
      },
      60_000,
    );
  }

  it('sends only the requests with the header to the canary at weight 0, the rest by the weight at 10%, and gives the route back at promotion', async () => {
    const [cluster] = stack.clusters as [string];
    const before = JSON.stringify(variant.spec(stack, cluster));
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, {
        image: 'registry.example.com/checkout:1.5.0',
        traffic: variant.traffic,
        steps: [HEADER_ROUTE, { pause: {} }, { setWeight: 10 }, { pause: {} }],
        waves: [{ name: 'only', clusters: [cluster] }],
      }),
      actor: 'ci',
    });
    await stack.waitFor('the header route, at weight 0', async () => (await stack.get(rollout.id)).state.clusters[cluster]!.awaitingPromote);
    variant.expectHeaderRule(stack, cluster, 0);
    const atZero = await split(cluster, '1.5.0', 100, 0);

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'promote', args: {}, reason: null, actor: 'alice' });
    await stack.waitFor('the 10% step', async () => {
      const c = (await stack.get(rollout.id)).state.clusters[cluster]!;
      return c.awaitingPromote && c.actualWeight === 10;
    });
    const atTen = await split(cluster, '1.5.0', 100, 10);
    console.log(`${variant.provider} header route seen by Prometheus (canary share, %): weight 0: ${JSON.stringify(atZero)}; weight 10: ${JSON.stringify(atTen)} (target: testers 100, others the weight, within 3 points)`);

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'promote', args: {}, reason: null, actor: 'alice' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.5.0');
    expect(JSON.stringify(variant.spec(stack, cluster))).toBe(before);
    expect(Object.keys(variant.annotations(stack, cluster))).toEqual(['owner.example.com/team']);
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-canary')).toBeUndefined();
    // Every request, testers' too, is on the promoted stable now.
    await split(cluster, '1.5.0', 100, 100);
  });

  it('removes the header route when the rollout is aborted, restoring the route byte for byte', async () => {
    const [, cluster] = stack.clusters as [string, string];
    const before = JSON.stringify(variant.spec(stack, cluster));
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, {
        image: 'registry.example.com/checkout:1.6.0',
        traffic: variant.traffic,
        steps: [{ setWeight: 10 }, HEADER_ROUTE, { pause: {} }],
        waves: [{ name: 'only', clusters: [cluster] }],
      }),
      actor: 'ci',
    });
    await stack.waitFor('the header route at 10%', async () => (await stack.get(rollout.id)).state.clusters[cluster]!.awaitingPromote);
    variant.expectHeaderRule(stack, cluster, 10);
    expect(JSON.parse(variant.annotations(stack, cluster)['oleada.dev/header-route']!)).toEqual([{ header: 'X-Canary', exact: '1' }]);
    await split(cluster, '1.6.0', 100, 10);

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'abort', args: {}, reason: 'testers found a bug', actor: 'carol' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase).toBe('aborted');
    expect(JSON.stringify(variant.spec(stack, cluster))).toBe(before);
    expect(Object.keys(variant.annotations(stack, cluster))).toEqual(['owner.example.com/team']);
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-stable')).toBeUndefined();
    // Testers are back on the stable version.
    await split(cluster, '1.6.0', 0, 0);
  });
});
}
