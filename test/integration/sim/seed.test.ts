import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../../src/sim/index.ts';
import { uniqueCluster, waitFor } from './helpers.ts';

const SEED = fileURLToPath(new URL('../../../deploy/examples/sim-seed.yaml', import.meta.url));
const CLUSTER = uniqueCluster('staging-eu');
let sim: Sim;

beforeAll(async () => {
  sim = await startSim({ clusters: [CLUSTER], seed: SEED, timeScale: 20, trafficRate: 1_000 });
});
afterAll(async () => {
  await sim.close();
});

function count(text: string, version: string, code: string): number {
  const match = new RegExp(`^http_requests_total\\{namespace="shop",app="cart",version="${version.replace(/\./g, '\\.')}",code="${code}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describe('the example seed', () => {
  it('starts settled, and its HTTPRoute sends a tenth of cart traffic to the canary, which fails a fifth of it', async () => {
    const cluster = sim.cluster(CLUSTER);
    for (const name of ['checkout', 'cart', 'cart-canary']) {
      const status = cluster.get('apps/v1/Deployment', 'shop', name)!.status as { availableReplicas?: number };
      expect(status.availableReplicas, name).toBeGreaterThan(0);
    }
    expect(cluster.get('gateway.networking.k8s.io/v1/HTTPRoute', 'shop', 'cart')).toBeDefined();
    const metrics = await waitFor('2,000 cart requests', () => {
      const text = cluster.metrics();
      const total = count(text, '2.0.0', '200') + count(text, '2.1.0', '200') + count(text, '2.1.0', '500');
      return total >= 2_000 ? text : undefined;
    });
    const stable = count(metrics, '2.0.0', '200');
    const canary = count(metrics, '2.1.0', '200') + count(metrics, '2.1.0', '500');
    expect(canary / (stable + canary)).toBeGreaterThan(0.08);
    expect(canary / (stable + canary)).toBeLessThan(0.12);
    expect(count(metrics, '2.1.0', '500') / canary).toBeCloseTo(0.2, 1);
    expect(count(metrics, '2.0.0', '500')).toBe(0);
  });
});
