import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One address in front of several API processes, as a load balancer puts it: each HTTP request goes to the next
 * backend in turn (not each connection, so a keep-alive client still reaches all of them). Streams (SSE) are piped
 * through as they come. It records which backend answered each request, for tests to check that all were used.
 */
export interface RoundRobinProxy {
  url: string;
  /** The backend index that answered each request so far, by method and path. */
  answered: { method: string; path: string; backend: number }[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const answered: RoundRobinProxy['answered'] = [];
  const server: Server = createServer((req, res) => {
    const backend = next++ % backends.length;
    const target = new URL(req.url ?? '/', backends[backend]);
    answered.push({ method: req.method ?? 'GET', path: target.pathname, backend });
    const upstream = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
