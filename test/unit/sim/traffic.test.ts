import { afterEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/sim/cluster.ts';
import { DURATION_BUCKETS, TrafficMetrics } from '../../../src/sim/metrics.ts';
import type { KubeObject } from '../../../src/sim/objects.ts';
import { defaultSeed } from '../../../src/sim/seed.ts';
import { deployment, testCluster, waitFor } from './helpers.ts';

let c: Cluster;
afterEach(async () => {
  await c.close();
});

function create(obj: KubeObject): void {
  const type = c.resources.byKind(obj.apiVersion, obj.kind)!;
  c.rest.create(type, obj.metadata.namespace, obj, { version: obj.apiVersion.split('/').pop()!, fieldManager: 'test' });
}

function versioned(name: string, version: string, replicas: number, image = `registry.example.com/checkout:${version}`): KubeObject {
  const d = deployment(name, { namespace: 'shop', replicas, image, labels: { app: 'checkout', version } });
  (d.spec as { selector: unknown }).selector = { matchLabels: { app: 'checkout', version } };
  return d;
}

function service(name: string, selector: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { selector, ports: [{ port: 80 }] } };
}

/** Parses `http_requests_total` samples: `version/code` -> count, or `version/code/traffic` for a header class. */
function requests(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^http_requests_total\{namespace="shop",app="checkout",version="([^"]*)"(?:,traffic="([^"]*)")?,code="(\d+)"\} (\d+)$/gm)) {
    counts.set(match[2] === undefined ? `${match[1]}/${match[3]}` : `${match[1]}/${match[3]}/${match[2]}`, Number(match[4]));
  }
  return counts;
}

function ready(pod: KubeObject): boolean {
  return JSON.stringify(pod.status).includes('"type":"Ready","status":"True"');
}

/** Waits until the ready pods are exactly these counts by version label, and no other pod exists. */
async function podsByVersion(expected: Record<string, number>): Promise<void> {
  await waitFor(`ready pods ${JSON.stringify(expected)}`, () => {
    const pods = c.list('pods', 'shop');
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    return pods.length === total && Object.entries(expected).every(([version, n]) => pods.filter((p) => p.metadata.labels?.version === version && ready(p)).length === n);
  });
}

/** Moves traffic on by `seconds` of simulated wall time, in 100 ms ticks, and returns the requests counted meanwhile. */
function drive(seconds: number): Map<string, number> {
  const start = Date.now() + 1_000;
  c.driveTraffic(start);
  const before = requests(c.metrics());
  for (let s = 1; s <= seconds * 10; s++) c.driveTraffic(start + s * 100);
  const after = requests(c.metrics());
  return new Map([...after].map(([key, n]) => [key, n - (before.get(key) ?? 0)] as [string, number]).filter(([, n]) => n > 0));
}

describe('simulated traffic', () => {
  it('splits a Service\'s rate across its ready pods, and fails exactly the configured fraction of a bad version', async () => {
    c = await testCluster({ timeScale: 100, trafficRate: 40, seed: defaultSeed() });
    c.rest.patch(c.resources.byKey('deployments.apps')!, 'shop', 'checkout', 'application/merge-patch+json', JSON.stringify({ spec: { replicas: 3 } }), { version: 'v1' });
    create(versioned('checkout-canary', '1.2.0', 1, 'registry.example.com/checkout:1.2.0-errors'));
    await podsByVersion({ '1.0.0': 3, '1.2.0': 1 });
    const counts = drive(100);
    const stableOk = counts.get('1.0.0/200') ?? 0;
    const canaryOk = counts.get('1.2.0/200') ?? 0;
    const canaryErrors = counts.get('1.2.0/500') ?? 0;
    // 40 req/s for 100 s, one pod in four on the canary: exact, because fractions carry over instead of being rolled.
    expect(stableOk + canaryOk + canaryErrors).toBe(4000);
    expect(counts.get('1.0.0/500')).toBeUndefined();
    expect(canaryOk + canaryErrors).toBe(1000);
    expect(canaryErrors).toBe(500);
  });

  it('follows HTTPRoute weights when a route points at the Services, instead of serving each Service directly', async () => {
    c = await testCluster({ timeScale: 100, trafficRate: 100, seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }] });
    create(versioned('stable', '1.0.0', 3));
    create(versioned('canary', '2.0.0', 1));
    create(service('checkout-stable', { app: 'checkout', version: '1.0.0' }));
    create(service('checkout-canary', { app: 'checkout', version: '2.0.0' }));
    create({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'checkout-stable', port: 80, weight: 90 }, { name: 'checkout-canary', port: 80, weight: 10 }] }] },
    });
    await podsByVersion({ '1.0.0': 3, '2.0.0': 1 });
    const counts = drive(10);
    expect(counts.get('1.0.0/200')).toBe(900);
    expect(counts.get('2.0.0/200')).toBe(100);
  });

  it('sends the header-carrying share of requests by the header rule and labels its metrics with the class', async () => {
    c = await testCluster({ timeScale: 100, trafficRate: 100, seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }] });
    create(versioned('stable', '1.0.0', 3));
    create(versioned('canary', '2.0.0', 1));
    create(service('checkout-stable', { app: 'checkout', version: '1.0.0' }));
    create(service('checkout-canary', { app: 'checkout', version: '2.0.0' }));
    const split = [{ name: 'checkout-stable', port: 80, weight: 90 }, { name: 'checkout-canary', port: 80, weight: 10 }];
    create({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: {
        parentRefs: [{ name: 'gw' }],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'X-Canary', value: '1' }] }], backendRefs: [{ name: 'checkout-canary', port: 80 }] },
          { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: split },
        ],
      },
    });
    c.setHeaderTraffic([{ name: 'tester', share: 0.2, headers: { 'x-canary': '1' } }]);
    await podsByVersion({ '1.0.0': 3, '2.0.0': 1 });
    const counts = drive(10);
    // 1000 requests: 200 testers, all on the canary; 800 others split 90/10 by the weights.
    expect(counts.get('2.0.0/200/tester')).toBe(200);
    expect(counts.get('1.0.0/200/tester')).toBeUndefined();
    expect(counts.get('1.0.0/200')).toBe(720);
    expect(counts.get('2.0.0/200')).toBe(80);
    expect(() => c.setHeaderTraffic([{ name: 'tester', share: 0.7, headers: { 'X-Canary': '1' } }, { name: 'beta', share: 0.5, headers: { 'X-Beta': '1' } }])).toThrow(
      /shares add up to 1.2, more than 1/,
    );
  });

  it('follows VirtualService weights to DestinationRule subsets', async () => {
    c = await testCluster({ timeScale: 100, trafficRate: 100, seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }] });
    create(versioned('stable', '1.0.0', 2));
    create(versioned('canary', '2.0.0', 2));
    create(service('checkout', { app: 'checkout' }));
    create({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: { host: 'checkout', subsets: [{ name: 'stable', labels: { version: '1.0.0' } }, { name: 'canary', labels: { version: '2.0.0' } }] },
    });
    create({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'checkout.shop.svc.cluster.local', subset: 'stable' }, weight: 75 }, { destination: { host: 'checkout', subset: 'canary' }, weight: 25 }] }] },
    });
    await podsByVersion({ '1.0.0': 2, '2.0.0': 2 });
    const counts = drive(10);
    expect(counts.get('1.0.0/200')).toBe(750);
    expect(counts.get('2.0.0/200')).toBe(250);
  });

  it('sends nothing to pods that are not ready', async () => {
    c = await testCluster({ timeScale: 100, trafficRate: 100, seed: defaultSeed() });
    create(versioned('checkout-crash', '3.0.0', 1, 'registry.example.com/checkout:3.0.0-crash'));
    await waitFor('the crashing pod', () => c.list('pods', 'shop').length === 5 && c.list('pods', 'shop').some((p) => JSON.stringify(p.status).includes('"restartCount":')));
    const counts = drive(10);
    expect(counts.get('1.0.0/200')).toBe(1000);
    expect([...counts.keys()].some((k) => k.startsWith('3.0.0'))).toBe(false);
  });
});

describe('the metrics exposition', () => {
  it('writes counters and cumulative histogram buckets in the text format, without a cluster label', () => {
    const metrics = new TrafficMetrics();
    const labels = { namespace: 'shop', app: 'checkout', version: '1.0.0' };
    metrics.count(labels, '200', 3);
    metrics.count(labels, '500', 1);
    metrics.observe(labels, 0.02);
    metrics.observe(labels, 0.3);
    metrics.observe(labels, 20);
    const text = metrics.render();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('http_requests_total{namespace="shop",app="checkout",version="1.0.0",code="200"} 3');
    expect(text).toContain('http_requests_total{namespace="shop",app="checkout",version="1.0.0",code="500"} 1');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toContain('http_request_duration_seconds_bucket{namespace="shop",app="checkout",version="1.0.0",le="0.025"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{namespace="shop",app="checkout",version="1.0.0",le="0.5"} 2');
    expect(text).toContain('http_request_duration_seconds_bucket{namespace="shop",app="checkout",version="1.0.0",le="10"} 2');
    expect(text).toContain('http_request_duration_seconds_bucket{namespace="shop",app="checkout",version="1.0.0",le="+Inf"} 3');
    expect(text).toContain('http_request_duration_seconds_count{namespace="shop",app="checkout",version="1.0.0"} 3');
    expect(text).toContain('http_request_duration_seconds_sum{namespace="shop",app="checkout",version="1.0.0"} 20.32');
    expect(text).not.toContain('cluster=');
    metrics.count({ ...labels, traffic: 'tester' }, '200', 2);
    expect(metrics.render()).toContain('http_requests_total{namespace="shop",app="checkout",version="1.0.0",traffic="tester",code="200"} 2');
    expect(metrics.total(labels, '200')).toBe(3);
    expect(DURATION_BUCKETS).toHaveLength(11);
  });
});
