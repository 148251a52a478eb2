import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusClient, PrometheusError, type PrometheusOutcome } from '../../../src/analysis/prometheus.ts';
import { services } from '../../support/services.ts';

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A local HTTP server that answers with `handler`; closed after the test. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nothing listens on: bound once to get a free number, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<PrometheusError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(PrometheusError);
  return error as PrometheusError;
}

describe('PrometheusClient against a real Prometheus', () => {
  const client = () => new PrometheusClient(services().prometheusUrl, { timeoutMs: 5_000 });

  it('reads a range of one series in time order, every step', async () => {
    const start = 1_700_000_000_000;
    const samples = await client().queryRange('time()', { start, end: start + 10_000, stepMs: 2_000 });
    expect(samples).toEqual([0, 2, 4, 6, 8, 10].map((s) => ({ at: start + s * 1000, value: 1_700_000_000 + s })));
  });

  it('reads no samples from a range query that matches nothing, and keeps NaN in one that does', async () => {
    const start = 1_700_000_000_000;
    expect(await client().queryRange('vector(1) > 2', { start, end: start + 5_000, stepMs: 1_000 })).toEqual([]);
    const nan = await client().queryRange('vector(0) / vector(0)', { start, end: start + 1_000, stepMs: 1_000 });
    expect(nan.map((s) => s.value)).toEqual([NaN, NaN]);
  });

  it('refuses a range query that returns several series', async () => {
    const start = Date.now() - 10_000;
    const error = await failure(client().queryRange('label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "a", "y", "", "")', { start, end: start + 5_000, stepMs: 1_000 }));
    expect(error.kind).toBe('bad_query');
    expect(error.message).toMatch(/returned 2 series .* the comparison needs one/);
  });

  it('returns the number of a one-series vector', async () => {
    expect(await client().query('vector(0.25)')).toEqual({ kind: 'value', value: 0.25 });
  });

  it('returns the number of a scalar', async () => {
    expect(await client().query('scalar(vector(1))')).toEqual({ kind: 'value', value: 1 });
  });

  it('evaluates at the time it is given', async () => {
    expect(await client().query('time()', new Date(1_700_000_000_000))).toEqual({ kind: 'value', value: 1_700_000_000 });
    expect(await client().query('time()', 1_700_000_500_000)).toEqual({ kind: 'value', value: 1_700_000_500 });
  });

  it('calls an empty vector empty', async () => {
    expect(await client().query('vector(1) > 2')).toEqual({ kind: 'empty' });
    expect(await client().query('absent(up{job="no-such-job"}) == 0')).toEqual({ kind: 'empty' });
  });

  it('calls NaN (0/0, an error rate without traffic) empty, and keeps +Inf as a value', async () => {
    expect(await client().query('vector(0) / 0')).toEqual({ kind: 'empty' });
    expect(await client().query('vector(1) / 0')).toEqual({ kind: 'value', value: Number.POSITIVE_INFINITY });
  });

  it('calls a malformed query bad_query, with Prometheus’s reason and the query', async () => {
    const error = await failure(client().query('sum(rate(http_requests_total[1m]'));
    expect(error.kind).toBe('bad_query');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Prometheus refused the query: .*parse error.*Query: sum\(rate\(http_requests_total\[1m\]$/);
  });

  it('calls several series bad_query, because a threshold on them would be ambiguous', async () => {
    const error = await failure(client().query('vector(1) or label_replace(vector(2), "code", "500", "", "")'));
    expect(error.kind).toBe('bad_query');
    expect(error.message).toMatch(/returned 2 series \(\{\}, \{code="500"\}\).*aggregate them/);
  });

  it('calls a range vector bad_query', async () => {
    const error = await failure(client().query('vector(1)[1m:]'));
    expect(error.kind).toBe('bad_query');
    expect(error.message).toMatch(/range vector/);
  });

  it('reports each request to the hook with its outcome', async () => {
    const seen: { durationMs: number; outcome: PrometheusOutcome }[] = [];
    const hooked = new PrometheusClient(services().prometheusUrl, { timeoutMs: 5_000, onRequest: (info) => seen.push(info) });
    await hooked.query('vector(1)');
    await hooked.query('sum(').catch(() => undefined);
    expect(seen.map((info) => info.outcome)).toEqual(['ok', 'bad_query']);
    expect(seen.every((info) => info.durationMs >= 0)).toBe(true);
  });

  it('tolerates a trailing slash in the base URL', async () => {
    const base = `${services().prometheusUrl.replace(/\/+$/, '')}/`;
    expect(await new PrometheusClient(base).query('vector(3)')).toEqual({ kind: 'value', value: 3 });
  });
});

describe('PrometheusClient behind a path prefix (Mimir, Thanos)', () => {
  it('posts the query under the prefix, form-encoded', async () => {
    let seen: { method?: string; url?: string; type?: string; body: string } = { body: '' };
    const url = await serve((request, response) => {
      seen = { method: request.method, url: request.url, type: request.headers['content-type'], body: '' };
      request.on('data', (chunk: Buffer) => (seen.body += chunk.toString()));
      request.on('end', () => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.5'] }] } }));
      });
    });
    expect(await new PrometheusClient(`${url}/prometheus/`).query('sum(up)', 1_000)).toEqual({ kind: 'value', value: 0.5 });
    expect(seen).toMatchObject({ method: 'POST', url: '/prometheus/api/v1/query', type: 'application/x-www-form-urlencoded' });
    expect(Object.fromEntries(new URLSearchParams(seen.body))).toEqual({ query: 'sum(up)', time: '1', timeout: '5' });
  });
});

describe('PrometheusClient connections', () => {
  it('sends queries in a row over one kept-alive connection, and opens more only for queries at once', async () => {
    let connections = 0;
    const url = await serve((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '2'] } }));
      });
    });
    servers.at(-1)!.on('connection', () => connections++);
    const client = new PrometheusClient(url);
    for (let i = 0; i < 5; i++) expect(await client.query(`vector(${i})`)).toEqual({ kind: 'value', value: 2 });
    expect(connections).toBe(1);
    await Promise.all([client.query('vector(10)'), client.query('vector(11)'), client.query('vector(12)')]);
    expect(connections).toBe(3);
  });
});

describe('PrometheusClient when Prometheus is not there', () => {
  it('calls a closed port unreachable and says what to check', async () => {
    const port = await closedPort();
    const error = await failure(new PrometheusClient(`http://127.0.0.1:${port}`, { timeoutMs: 2_000 }).query('vector(1)'));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe(
      `Prometheus at http://127.0.0.1:${port} is unreachable (connection refused): check that it is running and that prometheus.url for this cluster in the clusters file is right`,
    );
  });

  it('calls a server that never answers a timeout', async () => {
    const url = await serve(() => {
      // Never answer.
    });
    const seen: PrometheusOutcome[] = [];
    const started = Date.now();
    const error = await failure(new PrometheusClient(url, { timeoutMs: 300, onRequest: (info) => seen.push(info.outcome) }).query('vector(1)'));
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/did not answer within 300ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen).toEqual(['timeout']);
  });

  it('times out a server that sends headers and then stalls the body', async () => {
    const url = await serve((_, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"status":"success",');
    });
    expect((await failure(new PrometheusClient(url, { timeoutMs: 300 }).query('vector(1)'))).kind).toBe('timeout');
  });

  it('calls a 5xx a server error and a non-Prometheus answer a server error', async () => {
    const failing = await serve((_, response) => {
      response.writeHead(503, { 'Content-Type': 'text/plain' }).end('overloaded');
    });
    const error = await failure(new PrometheusClient(failing).query('vector(1)'));
    expect(error).toMatchObject({ kind: 'server', status: 503 });
    expect(error.message).toMatch(/answered HTTP 503: overloaded/);

    const html = await serve((_, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login</html>');
    });
    expect((await failure(new PrometheusClient(html).query('vector(1)'))).message).toMatch(/not the Prometheus query API/);
  });

  it('calls Prometheus’s own evaluation timeout a timeout', async () => {
    const url = await serve((_, response) => {
      response.writeHead(503, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }));
    });
    expect(await failure(new PrometheusClient(url).query('vector(1)'))).toMatchObject({ kind: 'timeout', status: 503 });
  });

  it('sends URL credentials as basic auth and never shows the password', async () => {
    let authorization: string | undefined;
    let body = '';
    const url = await serve((request, response) => {
      authorization = request.headers.authorization;
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        response.writeHead(401).end('unauthorized');
      });
    });
    const withCredentials = url.replace('http://', 'http://oleada:s3cr%40t@');
    const client = new PrometheusClient(withCredentials, { timeoutMs: 2_000 });
    const error = await failure(client.query('vector(1)'));
    expect(authorization).toBe(`Basic ${Buffer.from('oleada:s3cr@t').toString('base64')}`);
    expect(new URLSearchParams(body).get('query')).toBe('vector(1)');
    expect(error).toMatchObject({ kind: 'server', status: 401 });
    expect(error.message).not.toContain('s3cr');
    expect(client.url).not.toContain('s3cr');
  });
});
