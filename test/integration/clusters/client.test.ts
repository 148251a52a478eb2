import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubeError } from '../../../src/clusters/errors.ts';
import { LeaseLostError, runFenced, type WriteFence } from '../../../src/clusters/fence.ts';
import { DeploymentWorkload } from '../../../src/clusters/providers/deployments.ts';
import { kubernetesRequests } from '../../../src/metrics.ts';
import { clusterName, rejection, startTestSim, waitFor, type TestSim } from './support.ts';

/** The request histogram's sample count for one cluster, verb and outcome. */
async function requestCount(cluster: string, verb: string, outcome: string): Promise<number> {
  const metric = await kubernetesRequests.get();
  const sample = metric.values.find(
    (v) =>
      v.metricName === 'oleada_kubernetes_request_duration_seconds_count' &&
      v.labels.cluster === cluster &&
      v.labels.verb === verb &&
      v.labels.outcome === outcome,
  );
  return sample?.value ?? 0;
}

// A plain-HTTP kube-sim (the provider tests cover TLS).
describe('the Kubernetes client against kube-sim faults', () => {
  const cluster = clusterName('prod-eu-1');
  const target = { cluster, namespace: 'shop', name: 'checkout', container: 'app' };
  let env: TestSim;

  beforeAll(async () => {
    env = await startTestSim({ clusters: [cluster] });
  });
  afterEach(async () => {
    await env.sim.cluster(cluster).faults.reset();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('sends a fenced write only after its fence check, naming the process and the lease in the User-Agent', async () => {
    const provider = new DeploymentWorkload(env.client(cluster));
    const c = env.sim.cluster(cluster);
    let checks = 0;
    const fence = (held: boolean, inTime: boolean): WriteFence => ({
      label: 'rollout-1/7',
      check: async () => {
        checks++;
        if (!held) throw new LeaseLostError('lease 7 passed on');
      },
      mayStillSend: () => inTime,
    });
    const writes = () => c.audit().filter((entry) => entry.method !== 'GET');

    const before = writes().length;
    await expect(runFenced(fence(false, true), () => provider.deleteCanary(target))).rejects.toBeInstanceOf(LeaseLostError);
    await expect(runFenced(fence(true, false), () => provider.deleteCanary(target))).rejects.toBeInstanceOf(LeaseLostError);
    expect(writes().length).toBe(before);
    expect(checks).toBe(2);

    // Reads are not fenced; a write that passes both checks goes out under the lease's name.
    await runFenced(fence(true, true), () => provider.deleteCanary(target));
    expect(checks).toBe(3);
    const [sent] = writes().slice(before);
    expect(sent?.userAgent).toMatch(new RegExp(`^oleada/engine \\(.+; pid ${process.pid}\\) lease/rollout-1/7$`));
  });

  it('keeps what it observed only while a write may reuse it, not for every rollout it ever observed', async () => {
    const provider = new DeploymentWorkload(env.client(cluster));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      await provider.observe(target);
      await provider.observe({ ...target, name: 'gone-long-ago' });
      expect(provider.remembered).toBe(2);
      // Past the reuse window (2 s), the next observation drops both older ones.
      vi.setSystemTime(Date.now() + 2_500);
      await provider.observe({ ...target, name: 'next' });
      expect(provider.remembered).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads through a plain-HTTP kubeconfig and records the call', async () => {
    const client = env.client(cluster);
    const before = await requestCount(cluster, 'get', 'ok');
    expect(await client.serverVersion()).toMatch(/^v1\./);
    expect(await requestCount(cluster, 'get', 'ok')).toBe(before + 1);
  });

  it('sorts injected 500s as retryable and records them', async () => {
    const provider = new DeploymentWorkload(env.client(cluster));
    env.sim.cluster(cluster).faults.failFraction(1);
    const before = await requestCount(cluster, 'get', 'server_error');
    const error = await rejection(provider.observe(target));
    expect(error).toBeInstanceOf(KubeError);
    expect(error).toMatchObject({ kind: 'retryable', status: 500, reason: 'server_error', cluster });
    expect(error.message).toContain('kube-sim injected fault');
    expect(await requestCount(cluster, 'get', 'server_error')).toBeGreaterThan(before);
  });

  it('does not retry a retryable error itself: one failed write is one request', async () => {
    const provider = new DeploymentWorkload(env.client(cluster));
    const c = env.sim.cluster(cluster);
    c.faults.failFraction(1);
    const writesBefore = c.audit().length;
    const error = await rejection(provider.deleteCanary(target));
    expect(error).toMatchObject({ kind: 'retryable' });
    expect(c.audit().length - writesBefore).toBe(1);
  });

  it('sorts a refused connection as retryable', async () => {
    const provider = new DeploymentWorkload(env.client(cluster));
    await env.sim.cluster(cluster).faults.refuseFor(30_000);
    const error = await rejection(provider.observe(target));
    expect(error).toMatchObject({ kind: 'retryable', reason: 'unreachable', cluster });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain(`cannot reach the API server at ${env.sim.cluster(cluster).url}`);
    await env.sim.cluster(cluster).faults.reset();
    await waitFor('the API server to answer again', async () => (await provider.observe(target)).stable !== null);
  });

  it('gives up on a slow call at its deadline, as retryable, saying it timed out', async () => {
    const client = env.client(cluster, { timeoutMs: 300 });
    env.sim.cluster(cluster).faults.setApiLatency(3_000);
    const started = performance.now();
    const error = await rejection(new DeploymentWorkload(client).observe(target));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ kind: 'retryable', reason: 'timeout', cluster });
    expect(error.message).toContain('timed out after 300 ms');
    // It returned at its own deadline, not when the server finally answered.
    expect(elapsed).toBeLessThan(2_500);
  });

  it('spaces requests at the configured rate after the burst', async () => {
    const client = env.client(cluster, { qps: 10, burst: 3 });
    const c = env.sim.cluster(cluster);
    // The first request of a client pays for warming up; without this, its late arrival shortens the measured span.
    await client.serverVersion();
    const seen = c.audit().length;
    // Writes, because kube-sim's audit records writes with their arrival time.
    await Promise.all(
      Array.from({ length: 13 }, (_, i) =>
        client.mergePatchDeployment('shop', 'checkout', { metadata: { annotations: { 'example.com/n': String(i) } } }),
      ),
    );
    const arrivals = c
      .audit()
      .slice(seen)
      .filter((e) => e.name === 'checkout' && e.method === 'PATCH')
      .map((e) => e.time);
    expect(arrivals).toHaveLength(13);
    const span = arrivals.at(-1)! - arrivals[0]!;
    // With 2 tokens left after the warm-up, 11 requests at 10/s take 1.1 s; allow for slack, and cap only against a stall.
    expect(span).toBeGreaterThanOrEqual(900);
    expect(span).toBeLessThan(5_000);
    // A token bucket lets at most burst + qps × w through in any window w: 3 + 5 in half a second, plus 2 for the
    // network bunching arrivals that left us apart. Without the limiter all 13 arrive within a few milliseconds.
    for (const start of arrivals) {
      expect(arrivals.filter((t) => t >= start && t < start + 500).length).toBeLessThanOrEqual(10);
    }
  });
});
