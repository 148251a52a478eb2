import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '../../support/services.ts';
import { rawRequest, startTestSim, uniqueCluster, waitFor, type TestSim } from './helpers.ts';

const CLUSTER = uniqueCluster('staging-eu');
let t: TestSim;

async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const url = `${services().prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const res = await rawRequest(url);
  const body = res.json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`prometheus query failed: ${res.text}`);
  return body.data.result;
}

async function scalar(promql: string): Promise<number | undefined> {
  const result = await query(promql);
  return result[0] ? Number(result[0].value[1]) : undefined;
}

const series = (version: string, extra = '') => `http_requests_total{cluster="${CLUSTER}",namespace="shop",app="checkout",version="${version}"${extra}}`;

beforeAll(async () => {
  t = await startTestSim({ clusters: [CLUSTER], timeScale: 20, trafficRate: 50, prometheusUrl: services().prometheusUrl, prometheusTargetsDir: services().prometheusTargetsDir });
});
afterAll(async () => {
  await t?.close();
});

describe('traffic scraped by a real Prometheus', () => {
  it('writes a file_sd target for the cluster, labelled with its name', () => {
    const file = join(services().prometheusTargetsDir, `${t.sim.id}-${CLUSTER}.json`);
    const targets = JSON.parse(readFileSync(file, 'utf8')) as { targets: string[]; labels: Record<string, string> }[];
    expect(targets).toEqual([{ targets: [new URL(t.sim.cluster(CLUSTER).metricsUrl).host], labels: { cluster: CLUSTER } }]);
  });

  it('reports a canary 5xx ratio near 0.5 and a stable one near 0, with a healthy 1.0.0 stable and an errors-50% canary at one pod in four', async () => {
    const apps = t.kubeConfig(CLUSTER).makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeployment({ name: 'checkout', namespace: 'shop', body: { spec: { replicas: 3 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const canaryLabels = { app: 'checkout', version: '1.2.0', 'oleada.dev/role': 'canary' };
    await apps.createNamespacedDeployment({
      namespace: 'shop',
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'checkout-canary', namespace: 'shop' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'checkout', 'oleada.dev/role': 'canary' } },
          template: { metadata: { labels: canaryLabels }, spec: { containers: [{ name: 'app', image: 'registry.example.com/checkout:1.2.0-errors' }] } },
        },
      },
    });
    await waitFor('3 stable pods and 1 canary pod ready', async () => {
      const [stable, canary] = await Promise.all([apps.readNamespacedDeployment({ name: 'checkout', namespace: 'shop' }), apps.readNamespacedDeployment({ name: 'checkout-canary', namespace: 'shop' })]);
      return stable.status?.replicas === 3 && stable.status.availableReplicas === 3 && canary.status?.availableReplicas === 1;
    });

    // Wait until Prometheus holds a full 10 s window of the canary's samples (one per second), then judge once.
    await waitFor('ten seconds of canary samples in Prometheus', async () => ((await scalar(`count_over_time(${series('1.2.0', ',code="500"')}[10s])`)) ?? 0) >= 10, 60_000);

    const canaryRatio = await scalar(`sum(rate(${series('1.2.0', ',code=~"5.."')}[10s])) / sum(rate(${series('1.2.0')}[10s]))`);
    const stableErrors = await scalar(`sum(rate(${series('1.0.0', ',code=~"5.."')}[10s])) or vector(0)`);
    const stableRate = await scalar(`sum(rate(${series('1.0.0')}[10s]))`);
    const canaryRate = await scalar(`sum(rate(${series('1.2.0')}[10s]))`);
    expect(canaryRatio).toBeGreaterThan(0.45);
    expect(canaryRatio).toBeLessThan(0.55);
    expect(stableErrors).toBe(0);
    // 50 req/s to the Service: three quarters to the stable pods, a quarter to the canary's.
    expect(stableRate).toBeGreaterThan(37.5 * 0.8);
    expect(stableRate).toBeLessThan(37.5 * 1.2);
    expect(canaryRate).toBeGreaterThan(12.5 * 0.8);
    expect(canaryRate).toBeLessThan(12.5 * 1.2);

    const buckets = await query(`http_request_duration_seconds_bucket{cluster="${CLUSTER}",version="1.2.0",le="+Inf"}`);
    expect(buckets).toHaveLength(1);
    expect(buckets[0]!.metric).toMatchObject({ namespace: 'shop', app: 'checkout', version: '1.2.0', cluster: CLUSTER });
  });

  it('removes its target file on close', async () => {
    const dir = services().prometheusTargetsDir;
    const mine = () => readdirSync(dir).filter((f) => f.startsWith(`${t.sim.id}-`));
    expect(mine()).toHaveLength(1);
    await t.close();
    expect(mine()).toHaveLength(0);
    expect(existsSync(t.dir)).toBe(false);
  });
});
