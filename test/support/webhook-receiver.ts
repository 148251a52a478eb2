/**
 * A local webhook receiver for tests: it checks every request's signature with the `standardwebhooks` verifier and
 * records it. It can answer with a given status (410, 429 with Retry-After, 503), hold requests without answering (a
 * receiver that hangs), or stop listening and come back on the same port (a receiver that is down).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  /** The path it was sent to: a hook's own, such as /freeze. */
  path: string;
  at: number;
  verified: boolean;
  body: { type: string; timestamp: string; data: Record<string, unknown> & { rolloutId: string; event: string } };
  raw: string;
  /** What this request was answered. */
  status: number;
}

export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

export interface WebhookReceiver {
  url: string;
  /** The secret, as the Oleada process reads it from its environment variable. */
  secret: string;
  received: Received[];
  /** Requests whose signature checked out, by webhook-id. */
  byId(): Map<string, Received[]>;
  /** Answers the next requests with `answers`, one each, in order; after them, 204. */
  answerNext(...answers: Answer[]): void;
  /** Answers every request with this from now on (until changed); undefined: 204. */
  answerAll(answer: Answer | undefined): void;
  /** Answers the requests to this path with this from now on, before anything else; undefined: as the other paths. */
  answerPath(path: string, answer: Answer | undefined): void;
  /** Answers the requests that were held with 204. */
  releaseHeld(): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: { onReceive?: (received: Received) => void } = {}): Promise<WebhookReceiver> {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const verifier = new Webhook(secret);
  const received: Received[] = [];
  const queued: Answer[] = [];
  let always: Answer | undefined;
  const byPath = new Map<string, Answer>();
  const held: ServerResponse[] = [];
  let server: Server | undefined;
  let port = 0;

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      };
      let verified = true;
      try {
        verifier.verify(raw, headers);
      } catch {
        verified = false;
      }
      const path = new URL(request.url ?? '/', 'http://receiver').pathname;
      const answer = byPath.get(path) ?? queued.shift() ?? always ?? { status: 204 };
      const entry: Received = {
        id: headers['webhook-id'],
        path,
        at: Date.now(),
        verified,
        body: JSON.parse(raw) as Received['body'],
        raw,
        status: answer === 'hang' ? 0 : answer.status,
      };
      received.push(entry);
      options.onReceive?.(entry);
      if (answer === 'hang') {
        held.push(response);
        return;
      }
      response.writeHead(answer.status, answer.headers ?? {});
      response.end();
    });
  };

  const listen = async () => {
    server = createServer(handle);
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    if (!server) return;
    const closing = server;
    server = undefined;
    closing.closeAllConnections();
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await listen();

  return {
    url: `http://127.0.0.1:${port}/hook`,
    secret,
    received,
    byId() {
      const map = new Map<string, Received[]>();
      for (const r of received.filter((r) => r.verified)) map.set(r.id, [...(map.get(r.id) ?? []), r]);
      return map;
    },
    answerNext: (...answers) => queued.push(...answers),
    answerAll(answer) {
      always = answer;
    },
    answerPath(path, answer) {
      if (answer === undefined) byPath.delete(path);
      else byPath.set(path, answer);
    },
    releaseHeld() {
      for (const response of held.splice(0)) {
        if (!response.destroyed) response.writeHead(204).end();
      }
    },
    down: stop,
    up: listen,
    close: stop,
  };
}
