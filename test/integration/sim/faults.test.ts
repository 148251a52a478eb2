import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, ApiException, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SimCluster } from '../../../src/sim/index.ts';
import { rawRequest, startTestSim, statusOf, thrown, uniqueCluster, waitFor, type TestSim } from './helpers.ts';

const EU = uniqueCluster('staging-eu');
const US = uniqueCluster('prod-us-1');
let t: TestSim;
let eu: SimCluster;
let us: SimCluster;

beforeAll(async () => {
  t = await startTestSim({ clusters: [EU, US], timeScale: 20 });
  eu = t.sim.cluster(EU);
  us = t.sim.cluster(US);
});
afterEach(async () => {
  await Promise.all([eu.faults.reset(), us.faults.reset()]);
});
afterAll(async () => {
  await t?.close();
});

const apps = (cluster: string) => t.kubeConfig(cluster).makeApiClient(AppsV1Api);
const core = (cluster: string) => t.kubeConfig(cluster).makeApiClient(CoreV1Api);
const read = (cluster: string) => apps(cluster).readNamespacedDeployment({ name: 'checkout', namespace: 'shop' });

function podState(pod: V1Pod): string {
  const s = pod.status?.containerStatuses?.[0];
  return `${s?.ready ? 'ready' : 'not-ready'}:${s?.state?.waiting?.reason ?? (s?.state?.running ? 'Running' : 'other')}`;
}

describe('injected faults', () => {
  it('reach the client as ApiException code 500, for exactly the fraction asked', async () => {
    eu.faults.failFraction(1);
    const err = await thrown(() => read(EU));
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(500);
    expect(statusOf(err)).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });

    eu.faults.failFraction(0.5);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => read(EU).then(() => 'ok', (e: ApiException<string>) => String(e.code))));
    expect(outcomes.filter((o) => o === '500')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
    // Only this cluster is affected.
    await expect(read(US)).resolves.toMatchObject({ metadata: { name: 'checkout' } });
  });

  it('refuse connections (ECONNREFUSED at the client) for a while, then serve again on the same port', async () => {
    const url = eu.url;
    await eu.faults.refuseFor(1_500);
    const err = await thrown(() => read(EU));
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
    const back = await waitFor('the API to answer again', async () => (await read(EU)).metadata?.name);
    expect(back).toBe('checkout');
    expect(eu.url).toBe(url);
  });

  it('delay every API call by the latency asked', async () => {
    eu.faults.setApiLatency(300);
    const started = performance.now();
    await read(EU);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drop a delayed write whose client went away before the delay ended, and audit it as 499', async () => {
    eu.faults.setApiLatency(600);
    const since = performance.timeOrigin + performance.now();
    const body = JSON.stringify({ metadata: { name: 'late' }, data: { a: '1' } });
    const abandoned = rawRequest(`${eu.url}/api/v1/namespaces/shop/configmaps`, { method: 'POST', token: eu.token, body, contentType: 'application/json', timeoutMs: 150 });
    await expect(abandoned).rejects.toThrow();
    await waitFor('the audit to show it dropped', () => eu.audit(since).some((e) => e.verb === 'create' && e.status === 499));
    // A read sent after the dropped write waits out the same latency, so it is served after that write would have been.
    const read = await rawRequest(`${eu.url}/api/v1/namespaces/shop/configmaps/late`, { token: eu.token });
    expect(read.status).toBe(404);
    expect(eu.get('v1/ConfigMap', 'shop', 'late')).toBeUndefined();
    // The same write from a client that waits is stored.
    await core(EU).createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'late' }, data: { a: '1' } } });
    expect(eu.get('v1/ConfigMap', 'shop', 'late')).toBeDefined();
  });

  it('change a version\'s behaviour at run time, in one cluster only, until reset', async () => {
    eu.faults.setBehaviour('1.0.0', 'crash');
    await waitFor('the EU pods to crash-loop', async () => {
      const pods = (await core(EU).listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items;
      return pods.length === 4 && pods.every((p) => podState(p) === 'not-ready:CrashLoopBackOff');
    });
    await waitFor('the EU deployment to report no available pods', async () => ((await read(EU)).status?.availableReplicas ?? 0) === 0);
    const usPods = (await core(US).listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items;
    expect(usPods.map(podState)).toEqual(new Array(4).fill('ready:Running'));

    await eu.faults.reset();
    await waitFor('the EU pods to recover', async () => (await read(EU)).status?.availableReplicas === 4);
    const restarted = (await core(EU).listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items;
    expect(restarted.every((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1)).toBe(true);
  });

  it('set behaviours across clusters from the Sim', async () => {
    t.sim.setBehaviour('1.0.0', { errors: 0.25 }, [US]);
    expect(() => t.sim.setBehaviour('1.0.0', 'slow', ['nowhere'])).toThrow(`unknown cluster nowhere (known: ${EU}, ${US})`);
  });
});

describe('the audit', () => {
  it('records every write: time, verb, path, content type, field manager, user agent and status', async () => {
    const since = performance.timeOrigin + performance.now();
    await apps(EU).patchNamespacedDeployment({ name: 'checkout', namespace: 'shop', fieldManager: 'oleada', body: { metadata: { labels: { audited: 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await thrown(() => apps(EU).deleteNamespacedDeployment({ name: 'missing', namespace: 'shop' }));
    await read(EU);
    const entries = eu.audit(since);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ verb: 'patch', method: 'PATCH', path: '/apis/apps/v1/namespaces/shop/deployments/checkout', contentType: 'application/merge-patch+json', fieldManager: 'oleada', status: 200, namespace: 'shop', resource: 'deployments.apps', name: 'checkout' });
    expect(entries[0]!.userAgent).toBeTruthy();
    expect(entries[1]).toMatchObject({ verb: 'delete', path: '/apis/apps/v1/namespaces/shop/deployments/missing', status: 404 });
    expect(entries[0]!.time).toBeGreaterThanOrEqual(since);
    expect(entries[1]!.time).toBeGreaterThan(entries[0]!.time);
    expect(us.audit(since)).toEqual([]);
  });
});

describe('the control API under /_sim', () => {
  const control = (path: string, options: { method?: string; body?: unknown; token?: string | null } = {}) =>
    rawRequest(`${eu.url}/_sim${path}`, { method: options.method, token: options.token === null ? undefined : (options.token ?? eu.token), body: options.body === undefined ? undefined : JSON.stringify(options.body), contentType: 'application/json' });

  it('needs the cluster token', async () => {
    expect((await control('/faults', { token: null })).status).toBe(401);
    expect((await control('/faults', { token: us.token })).status).toBe(401);
  });

  it('sets and reads faults, behaviours and the traffic rate, reads the audit, and resets', async () => {
    expect((await control('/faults', { method: 'POST', body: { failFraction: 1, apiLatencyMs: 10 } })).json()).toEqual({ failFraction: 1, apiLatencyMs: 10, holdWrites: [], heldWrites: 0 });
    expect(((await thrown(() => read(EU))) as ApiException<string>).code).toBe(500);
    expect((await control('/faults')).json()).toEqual({ failFraction: 1, apiLatencyMs: 10, holdWrites: [], heldWrites: 0 });
    expect((await control('/reset', { method: 'POST' })).status).toBe(200);
    await expect(read(EU)).resolves.toBeDefined();

    const set = await control('/behaviours', { method: 'POST', body: { version: '9.9.9', behaviour: { errors: 0.3 } } });
    expect(set.status).toBe(200);
    expect((set.json() as { overrides: Record<string, Record<string, unknown>> }).overrides['9.9.9']).toEqual({ [EU]: { errors: 0.3, latencyMs: 0, crash: false, pullfail: false } });
    expect((await control('/behaviours', { method: 'POST', body: { version: '9.9.9', behaviour: 'sideways' } })).status).toBe(400);

    expect((await control('/traffic', { method: 'PUT', body: { rate: 7 } })).json()).toEqual({ rate: 7, headerTraffic: [] });
    const testers = [{ name: 'tester', share: 0.25, headers: { 'X-Canary': '1' } }];
    expect((await control('/traffic', { method: 'POST', body: { headerTraffic: testers } })).json()).toEqual({ rate: 7, headerTraffic: testers });
    const refused = await control('/traffic', { method: 'POST', body: { rate: 9, headerTraffic: [{ name: 'Tester', share: 2, headers: {} }] } });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/headerTraffic must be a list of \{ name, share, headers \}/);
    expect((await control('/traffic')).json()).toEqual({ rate: 7, headerTraffic: testers });
    await control('/traffic', { method: 'POST', body: { headerTraffic: [] } });

    const since = performance.timeOrigin + performance.now();
    await core(EU).createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'audited' }, data: { a: '1' } } });
    const audit = (await control(`/audit?since=${since}`)).json() as { items: { verb: string; path: string; status: number }[] };
    expect(audit.items).toEqual([expect.objectContaining({ verb: 'create', path: '/api/v1/namespaces/shop/configmaps', status: 201 })]);
    expect((await control('/nothing')).status).toBe(404);
  });

  it('holds the writes of a resource until released, and drops a held write whose client went away', async () => {
    expect((await control('/faults/hold', { method: 'POST', body: {} })).status).toBe(400);
    expect((await control('/faults/hold', { method: 'POST', body: { resources: ['configmaps'] } })).json()).toMatchObject({ holdWrites: ['configmaps'], heldWrites: 0 });
    const since = performance.timeOrigin + performance.now();
    const held = core(EU).createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'held' }, data: { a: '1' } } });
    await waitFor('the write to be held', async () => ((await control('/faults')).json() as { heldWrites: number }).heldWrites === 1);
    expect(eu.audit(since).map((e) => [e.verb, e.resource, e.status])).toEqual([['create', 'configmaps', 0]]);
    expect(eu.get('v1/ConfigMap', 'shop', 'held')).toBeUndefined();
    await control('/faults/hold', { method: 'DELETE' });
    await held;
    expect(eu.get('v1/ConfigMap', 'shop', 'held')).toBeDefined();

    await control('/faults/hold', { method: 'POST', body: { resources: ['configmaps'] } });
    const abandoned = rawRequest(`${eu.url}/api/v1/namespaces/shop/configmaps`, { method: 'POST', token: eu.token, body: JSON.stringify({ metadata: { name: 'abandoned' } }), contentType: 'application/json', timeoutMs: 300 });
    await expect(abandoned).rejects.toThrow();
    await waitFor('the held write to be dropped', async () => ((await control('/faults')).json() as { heldWrites: number }).heldWrites === 0);
    await waitFor('the audit to show it dropped', () => eu.audit(since).some((e) => e.verb === 'create' && e.status === 499));
    await control('/faults/hold', { method: 'DELETE' });
    expect(eu.get('v1/ConfigMap', 'shop', 'abandoned')).toBeUndefined();
  });

  it('refuses connections on request, after answering', async () => {
    const res = await control('/faults/refuse', { method: 'POST', body: { ms: 1_000 } });
    expect(res.status).toBe(202);
    await waitFor('connections to be refused', async () => {
      try {
        await read(EU);
        return false;
      } catch (err) {
        return (err as { code?: string }).code === 'ECONNREFUSED';
      }
    }, 5_000);
    await waitFor('the API to answer again', async () => (await read(EU)).metadata?.name === 'checkout');
  });
});
