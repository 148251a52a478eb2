// The plain-HTTP /metrics listener Prometheus scrapes, one per cluster, apart from the API server: no token, no
// faults, as an app's own metrics port would be.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

export class MetricsServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly cluster: string,
    private readonly render: () => string,
  ) {}

  listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      if ((req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
        return;
      }
      const body = this.render();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`kube-sim: cluster ${this.cluster} cannot serve metrics on 127.0.0.1:${port}: ${err.message}`, { cause: err })));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        if (address && typeof address === 'object') this.port = address.port;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}
