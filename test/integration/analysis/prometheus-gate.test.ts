import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../../src/analysis/prometheus.ts';
import { PrometheusGate } from '../../../src/analysis/prometheus-gate.ts';
import { registry } from '../../../src/metrics.ts';
import { services } from '../../support/services.ts';

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

interface Proxy {
  url: string;
  /** Query bodies that reached the real Prometheus, in order. */
  queries: string[];
  /** The most requests that were open through the proxy at one moment. */
  peakOpen: () => number;
}

/**
 * A counting proxy in front of the real Prometheus: it forwards every request unchanged, holding each answer back
 * `holdMs` so that requests sent together are open together, and records what passed and how many were open at once.
 */
async function countingProxy(holdMs: number): Promise<Proxy> {
  const target = new URL(services().prometheusUrl);
  const queries: string[] = [];
  let open = 0;
  let peak = 0;
  const server = createServer((req, res) => {
    open += 1;
    peak = Math.max(peak, open);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      queries.push(new URLSearchParams(body.toString()).get('query') ?? '');
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            setTimeout(() => {
              open -= 1;
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(parts));
            }, holdMs);
          });
        },
      );
      upstream.end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries, peakOpen: () => peak };
}

/** The gate's figures as /metrics shows them, read through the same Registry the API serves. */
async function queryMetrics(): Promise<{ sent: number; shared: number; waits: number; waitSeconds: number }> {
  const text = await registry.metrics();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    sent: value(/^oleada_prometheus_queries_total\{outcome="sent"\} (\S+)$/m),
    shared: value(/^oleada_prometheus_queries_total\{outcome="shared"\} (\S+)$/m),
    waits: value(/^oleada_prometheus_queue_wait_seconds_count (\S+)$/m),
    waitSeconds: value(/^oleada_prometheus_queue_wait_seconds_sum (\S+)$/m),
  };
}

describe('the Prometheus gate, through a counting proxy to the real Prometheus', () => {
  it('sends one request for identical queries that fall due together, and gives each caller its answer', async () => {
    const proxy = await countingProxy(100);
    const gate = new PrometheusGate(4);
    // Two clusters seen by one Prometheus: two clients on one gate.
    const clients = [new PrometheusClient(proxy.url, { gate }), new PrometheusClient(proxy.url, { gate })];
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => clients[i % 2]!.query('vector(42)')));

    expect(answers).toEqual(Array.from({ length: 20 }, () => ({ kind: 'value', value: 42 })));
    expect(proxy.queries).toEqual(['vector(42)']);
    expect(gate.stats).toMatchObject({ sent: 1, shared: 19 });
  });

  it('counts sent and shared queries and the wait for a slot in /metrics', async () => {
    const proxy = await countingProxy(50);
    const before = await queryMetrics();
    const client = new PrometheusClient(proxy.url, { gate: new PrometheusGate(1) });
    // Three different queries at a limit of 1 (two wait for a slot), each asked twice at once (three shared).
    await Promise.all(['vector(1)', 'vector(2)', 'vector(3)'].flatMap((q) => [client.query(q), client.query(q)]));
    const after = await queryMetrics();

    expect(after.sent - before.sent).toBe(3);
    expect(after.shared - before.shared).toBe(3);
    expect(after.waits - before.waits).toBe(3);
    // The second and third each waited at least one held answer (50 ms) for the slot.
    expect(after.waitSeconds - before.waitSeconds).toBeGreaterThanOrEqual(0.1);
  });

  it('keeps different queries apart, and asks again once the shared request has been answered', async () => {
    const proxy = await countingProxy(20);
    const client = new PrometheusClient(proxy.url, { gate: new PrometheusGate(4) });
    const [one, two] = await Promise.all([client.query('vector(1)'), client.query('vector(2)')]);
    expect([one, two]).toEqual([
      { kind: 'value', value: 1 },
      { kind: 'value', value: 2 },
    ]);
    expect(await client.query('vector(1)')).toEqual({ kind: 'value', value: 1 });
    expect(proxy.queries.toSorted()).toEqual(['vector(1)', 'vector(1)', 'vector(2)']);
  });

  it('does not share queries evaluated at different times', async () => {
    const proxy = await countingProxy(50);
    const client = new PrometheusClient(proxy.url, { gate: new PrometheusGate(4) });
    const [early, late] = await Promise.all([client.query('time()', 1_700_000_000_000), client.query('time()', 1_700_000_060_000)]);
    expect([early, late]).toEqual([
      { kind: 'value', value: 1_700_000_000 },
      { kind: 'value', value: 1_700_000_060 },
    ]);
    expect(proxy.queries).toHaveLength(2);
  });

  it('keeps at most the limit of requests open to one URL, across the clients that share it, and answers them all', async () => {
    const proxy = await countingProxy(50);
    const gate = new PrometheusGate(3);
    const clients = [new PrometheusClient(proxy.url, { gate }), new PrometheusClient(proxy.url, { gate })];
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => clients[i % 2]!.query(`vector(${i})`)));

    expect(answers.map((a) => (a.kind === 'value' ? a.value : null))).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(proxy.queries).toHaveLength(24);
    expect(proxy.peakOpen()).toBe(3);
    expect(gate.stats.peakActive).toBe(3);
  });

  it('lets a raised limit take effect for the requests already waiting', async () => {
    const proxy = await countingProxy(50);
    const gate = new PrometheusGate(1);
    const client = new PrometheusClient(proxy.url, { gate });
    const all = Promise.all(Array.from({ length: 12 }, (_, i) => client.query(`vector(${i})`)));
    gate.setLimit(6);
    await all;
    expect(proxy.peakOpen()).toBe(6);
    expect(() => gate.setLimit(0)).toThrow(/at least 1, got 0/);
  });
});
