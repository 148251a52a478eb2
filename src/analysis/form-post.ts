import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/*
 * One form POST and its whole answer, over node:http with a keep-alive agent. The Prometheus client used the global
 * fetch before; in the scale benchmark's allocation profile fetch (undici's request and response objects, and the web
 * streams it tees the body through) was 170 of the 475 KB a tick allocated, and that garbage is what grew the engine's
 * heap (docs/performance.md, "Peak RSS"). A query's answer is a few hundred bytes: a plain request does the same work.
 */

export interface PostAnswer {
  status: number;
  text: string;
}

/** Thrown when the whole exchange (connect, send, headers, body) took longer than its timeout; `name` says so. */
export class PostTimeoutError extends Error {
  override name = 'TimeoutError';
}

/** How long an idle connection is kept for the next request; under the idle timeouts servers and proxies commonly use. */
const IDLE_SOCKET_MS = 4_000;

/** The keep-alive connections to one server, one per client; idle ones close after IDLE_SOCKET_MS. */
export class FormPoster {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;

  constructor(url: URL) {
    const secure = url.protocol === 'https:';
    // An idle socket is unreferenced by the agent, so a client never keeps the process alive.
    this.agent = secure ? new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }) : new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
    this.send = secure ? httpsRequest : httpRequest;
  }

  /** POSTs `body` to `url`; rejects with the socket's error (its `code` says why) or a PostTimeoutError. */
  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostAnswer> {
    return new Promise((resolve, reject) => {
      const request = this.send(url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      });
      // One timer for the whole exchange: a server that sends headers and then stalls the body still times out.
      let timedOut: PostTimeoutError | undefined;
      const timer = setTimeout(() => {
        timedOut = new PostTimeoutError(`no whole answer within ${timeoutMs}ms`);
        request.destroy(timedOut);
      }, timeoutMs);
      // `on`, not `once`: a destroyed exchange may report on both objects, and an unheard error would crash the process.
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(timedOut ?? err);
      };
      request.on('error', fail);
      request.once('response', (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.once('close', () => {
          if (!response.complete) fail(new Error('the connection closed before the whole answer came'));
        });
        response.once('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      request.end(body);
    });
  }
}
