/**
 * A local stand-in for Slack's Web API, for tests: Slack cannot be reached from here, so the real `@slack/web-api`
 * client is pointed at this server (`slackApiUrl: fake.apiUrl`). It records every call, answers as Slack does
 * (`{ ok: true, channel, ts }`, or `{ ok: false, error }`), can answer `ratelimited` with a 429 and Retry-After, and
 * also serves `response_url`s (the URLs Slack puts in slash commands and clicks) so that their posts are recorded too.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call of a Web API method, with its arguments decoded from the form or JSON body. */
export interface SlackCall {
  method: string;
  /** The bearer token the client sent, so a test can check that it is the configured one. */
  token: string | null;
  args: Record<string, unknown>;
}

/** One post to a response_url. */
export interface ResponsePost {
  key: string;
  body: Record<string, unknown>;
}

export interface FakeSlack {
  /** What to give WebClient as `slackApiUrl` (ends with a slash, as Slack's own does). */
  apiUrl: string;
  /** A fresh response_url under this server; posts to it are recorded with this key. */
  responseUrl(key: string): string;
  calls: SlackCall[];
  responses: ResponsePost[];
  /** The calls of one method, in order. */
  callsOf(method: string): SlackCall[];
  /** The next `count` Web API calls answer HTTP 429 `ratelimited` with `Retry-After: retryAfterSeconds`. */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  /** The next `count` Web API calls answer HTTP 200 `{ ok: false, error }` (for example `channel_not_found`). */
  failNext(count: number, error: string): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  if ((request.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(text) as Record<string, unknown>;
  // The client sends form bodies, with objects and arrays (blocks, attachments) as JSON strings.
  const args: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    args[name] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const responses: ResponsePost[] = [];
  let rateLimited = { count: 0, retryAfter: 1 };
  let failures = { count: 0, error: '' };
  let nextTs = 1_700_000_000;

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://fake-slack');
      const body = await readBody(request);
      const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(payload));
      };
      if (url.pathname.startsWith('/responses/')) {
        responses.push({ key: decodeURIComponent(url.pathname.slice('/responses/'.length)), body });
        return answer(200, { ok: true });
      }
      if (!url.pathname.startsWith('/api/')) return answer(404, { ok: false, error: 'unknown_method' });
      const method = url.pathname.slice('/api/'.length);
      const auth = request.headers.authorization ?? '';
      calls.push({ method, token: auth.startsWith('Bearer ') ? auth.slice(7) : ((body.token as string | undefined) ?? null), args: body });
      if (rateLimited.count > 0) {
        rateLimited.count -= 1;
        return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(rateLimited.retryAfter) });
      }
      if (failures.count > 0) {
        failures.count -= 1;
        return answer(200, { ok: false, error: failures.error });
      }
      const channel = (body.channel as string | undefined) ?? 'C0000000000';
      switch (method) {
        case 'chat.postMessage':
          nextTs += 1;
          return answer(200, { ok: true, channel, ts: `${nextTs}.000100`, message: { text: body.text, blocks: body.blocks } });
        case 'chat.update':
          return answer(200, { ok: true, channel, ts: body.ts, text: body.text });
        case 'chat.postEphemeral':
          nextTs += 1;
          return answer(200, { ok: true, message_ts: `${nextTs}.000200` });
        case 'auth.test':
          return answer(200, { ok: true, user_id: 'UOLEADA', team_id: 'T0000000000', bot_id: 'B0000000000' });
        default:
          return answer(200, { ok: true });
      }
    })().catch((err: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: false, error: 'fake_slack_error', detail: String(err) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${base}/api/`,
    responseUrl: (key) => `${base}/responses/${encodeURIComponent(key)}`,
    calls,
    responses,
    callsOf: (method) => calls.filter((call) => call.method === method),
    rateLimitNext(count, retryAfterSeconds) {
      rateLimited = { count, retryAfter: retryAfterSeconds };
    },
    failNext(count, error) {
      failures = { count, error };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
