import { readFile, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ClusterRegistry } from '../../../src/clusters/registry.ts';
import { DomainError } from '../../../src/errors.ts';
import { freePort } from '../../support/redis.ts';
import { services } from '../../support/services.ts';
import { clusterName, startTestSim, waitFor, type TestSim } from './support.ts';

interface FileEntry {
  name: string;
  kubeconfig: string;
  context?: string;
  labels?: Record<string, string>;
  prometheus: { url: string; timeout?: string; concurrency?: number };
  qps?: number;
  burst?: number;
  timeout?: string;
}

/** A pino logger whose lines the test can read. */
function capturingLogger() {
  const lines: Array<{ msg: string; err?: string } & Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** Writes through a rename, as editors and ConfigMap updates do. */
async function writeClustersFile(path: string, clusters: FileEntry[] | string): Promise<void> {
  const text = typeof clusters === 'string' ? clusters : stringify({ clusters });
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

describe('the cluster registry', () => {
  const a = clusterName('staging-eu');
  const b = clusterName('prod-us-1');
  let env: TestSim;
  let original: FileEntry[];
  const registries: ClusterRegistry[] = [];

  beforeAll(async () => {
    env = await startTestSim({ clusters: [a, b], tls: true, prometheusUrl: services().prometheusUrl });
    original = (parse(await readFile(env.clustersFile, 'utf8')) as { clusters: FileEntry[] }).clusters;
  });
  afterEach(async () => {
    for (const registry of registries.splice(0)) registry.close();
    await writeClustersFile(env.clustersFile, original);
    await env.sim.cluster(a).faults.reset();
  });
  afterAll(async () => {
    await env?.close();
  });

  async function load(options: Parameters<typeof ClusterRegistry.load>[1] = {}): Promise<ClusterRegistry> {
    const registry = await ClusterRegistry.load(env.clustersFile, options);
    registries.push(registry);
    return registry;
  }

  it('builds a client, a provider and a Prometheus client per cluster', async () => {
    const registry = await load();
    expect(registry.list().map((e) => e.name)).toEqual([a, b]);
    expect(registry.has(a)).toBe(true);
    expect(registry.get(a).client.context).toBe(a);
    expect(registry.provider(b).kind).toBe('replicas');
    const observed = await registry.provider(b).workload.observe({ cluster: b, namespace: 'shop', name: 'checkout', container: 'app' });
    expect(observed.stable?.name).toBe('checkout');
    expect(registry.prometheus(a).url).toBe(services().prometheusUrl);
  });

  it('gives clusters that name one Prometheus URL one gate, at the smallest concurrency they give, kept across reloads', async () => {
    const withConcurrency = (limits: [number, number]) =>
      original.map((entry, i) => ({ ...entry, prometheus: { ...entry.prometheus, concurrency: limits[i] ?? 1 } }));
    await writeClustersFile(env.clustersFile, withConcurrency([3, 5]));
    const registry = await load({ watch: true, debounceMs: 20 });
    const gate = registry.prometheus(a).gate;
    expect(registry.prometheus(b).gate).toBe(gate);
    expect(gate.limit).toBe(3);

    await writeClustersFile(env.clustersFile, withConcurrency([7, 7]));
    await waitFor('the reload to raise the limit', () => registry.prometheus(a).gate.limit === 7);
    expect(registry.prometheus(a).gate).toBe(gate);
    expect(registry.prometheus(b).gate).toBe(gate);
  });

  it('drops the gate of a Prometheus URL no cluster names after a reload, once its query in flight has ended', async () => {
    // b's Prometheus holds every answer until the test lets it go, so a query is in flight across the reload.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = createServer((_req, res) => {
      void released.then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, '5'] }] } }));
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    try {
      await writeClustersFile(env.clustersFile, [original[0]!, { ...original[1]!, prometheus: { url: slowUrl, timeout: '20s' } }]);
      const { logger, lines } = capturingLogger();
      const registry = await load({ watch: true, debounceMs: 20, logger });
      expect(registry.gateUrls().toSorted()).toEqual([services().prometheusUrl, slowUrl].toSorted());
      const oldGate = registry.prometheus(b).gate;
      const inFlight = registry.prometheus(b).query('vector(5)');
      await waitFor('the query to be on the wire', () => oldGate.stats.sent === 1);

      // b now names a's Prometheus: the slow URL is named by no one.
      await writeClustersFile(env.clustersFile, original);
      await waitFor('the reload', () => registry.prometheus(b).url === services().prometheusUrl);
      expect(registry.gateUrls()).toEqual([services().prometheusUrl]);
      expect(registry.prometheus(b).gate).toBe(registry.prometheus(a).gate);
      expect(lines.some((l) => l.msg.startsWith('Prometheus gate dropped'))).toBe(false);

      // The query in flight on the dropped gate still gets its answer, and only then is the gate reported dropped.
      release();
      expect(await inFlight).toEqual({ kind: 'value', value: 5 });
      const dropped = await waitFor('the drop to be logged', () => lines.find((l) => l.msg.startsWith('Prometheus gate dropped')));
      expect(dropped).toMatchObject({ prometheus: new URL(slowUrl).host });
    } finally {
      release();
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('refuses an unknown cluster with a 422 that lists the known ones', async () => {
    const registry = await load();
    let thrown: unknown;
    try {
      registry.get('prod-mars-1');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({ code: 'unknown_cluster' });
    expect((thrown as Error).message).toBe(`cluster prod-mars-1 is not in the clusters file ${env.clustersFile} (known: ${a}, ${b})`);
  });

  it('fails to load when a context is missing from the kubeconfig, naming the ones there are', async () => {
    await writeClustersFile(env.clustersFile, [{ ...original[0]!, context: 'nope' }]);
    await expect(load()).rejects.toThrow(`kubeconfig ${env.kubeconfig} has no context nope (contexts: ${a}, ${b})`);
  });

  it('reloads on change: rebuilds changed entries only, drops removed ones, and keeps the last good list on a bad edit', async () => {
    const { logger, lines } = capturingLogger();
    const registry = await load({ watch: true, debounceMs: 20, logger });
    const clientA = registry.get(a).client;
    const clientB = registry.get(b).client;

    // A label edit on a keeps its client (and its rate-limit state); a qps edit on b gets b a new one.
    await writeClustersFile(env.clustersFile, [
      { ...original[0]!, labels: { ...original[0]!.labels, tier: 'gold' } },
      { ...original[1]!, qps: 7 },
    ]);
    await waitFor('the edit to be applied', () => registry.get(b).entry.qps === 7);
    expect(registry.get(a).entry.labels.tier).toBe('gold');
    expect(registry.get(a).client).toBe(clientA);
    expect(registry.get(b).client).not.toBe(clientB);
    expect(lines.find((l) => l.msg === 'clusters file reloaded')).toMatchObject({ added: [], changed: [a, b], removed: [] });

    // A bad edit is logged and changes nothing.
    await writeClustersFile(env.clustersFile, 'clusters:\n  - name: [broken\n');
    await waitFor('the bad edit to be logged', () => lines.some((l) => l.msg === 'clusters file change rejected; keeping the last good list'));
    expect(registry.list().map((e) => e.name)).toEqual([a, b]);
    expect(registry.get(b).entry.qps).toBe(7);

    // So is an edit that loads but names a context the kubeconfig lacks.
    lines.length = 0;
    await writeClustersFile(env.clustersFile, [{ ...original[0]!, context: 'nope' }]);
    await waitFor('the bad context to be logged', () => lines.some((l) => l.msg.startsWith('clusters file change rejected') && String(l.err).includes('no context nope')));
    expect(registry.has(b)).toBe(true);

    // The next good edit applies: b goes away.
    await writeClustersFile(env.clustersFile, [original[0]!]);
    await waitFor('b to be removed', () => !registry.has(b));
    expect(() => registry.get(b)).toThrow(DomainError);
    expect(registry.list().map((e) => e.name)).toEqual([a]);
  });

  it('reports a healthy API server and Prometheus', async () => {
    const registry = await load();
    const health = await registry.health(a);
    expect(health).toMatchObject({
      name: a,
      apiReachable: true,
      serverVersion: expect.stringMatching(/^v1\./),
      error: null,
      prometheusReachable: true,
      prometheusError: null,
    });
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports an unreachable API server and Prometheus with their reasons', async () => {
    const port = await freePort();
    const file = join(env.dir, 'unreachable.yaml');
    await writeClustersFile(file, [{ ...original[0]!, prometheus: { url: `http://127.0.0.1:${port}`, timeout: '2s' } }]);
    const registry = await ClusterRegistry.load(file);
    registries.push(registry);
    await env.sim.cluster(a).faults.refuseFor(30_000);
    const health = await registry.health(a);
    expect(health).toMatchObject({ name: a, apiReachable: false, serverVersion: null, latencyMs: null, prometheusReachable: false });
    expect(health.error).toContain('ECONNREFUSED');
    expect(health.prometheusError).toContain('unreachable');
  });
});
