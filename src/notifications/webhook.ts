/**
 * Webhook channels: a JSON POST signed as Standard Webhooks specify (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), by the `standardwebhooks` package, with the secret named by the channel's `secretEnv`.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import { namedSecret } from '../config.ts';
import { toError } from '../errors.ts';
import type { Channel } from './file.ts';
import { retryAfterMs, type Sender, type TryResult } from './sender.ts';

type WebhookChannel = Extract<Channel, { kind: 'webhook' }>;

export interface WebhookSenderOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  userAgent?: string;
}

class NoAnswer extends Error {
  override name = 'NoAnswer';
}

/**
 * POSTs `body` and resolves with the answer's status and headers (its body is discarded). node:http rather than fetch:
 * in a burst of deliveries fetch cost about three times the CPU per request (undici's per-request work, and its first
 * requests run cold), and the delivery thread's first tries are CPU-bound then. Like `redirect: 'manual'`, it never
 * follows a redirect. Node's global agents keep connections alive for 5 s.
 */
function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
    // The whole try, from connecting to the answer's headers, within the timeout.
    const timer = setTimeout(() => request.destroy(new NoAnswer(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('response', (response) => {
      clearTimeout(timer);
      response.resume();
      resolve({ status: response.statusCode ?? 0, headers: response.headers });
    });
    request.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    request.end(body);
  });
}

export function createWebhookSender(options: WebhookSenderOptions): Sender<WebhookChannel> {
  return {
    async send(delivery, channel): Promise<TryResult> {
      const secret = namedSecret(channel.secretEnv, options.env);
      if (secret === undefined) {
        return { ok: false, statusCode: null, retry: 'schedule', error: `the environment variable ${channel.secretEnv} (the signing secret) is not set` };
      }
      let signer: Webhook;
      try {
        signer = new Webhook(secret);
      } catch {
        // The library's message could quote the secret; say only where it came from.
        return { ok: false, statusCode: null, retry: 'schedule', error: `${channel.secretEnv} is not a Standard Webhooks secret (whsec_ and base64)` };
      }
      const body = JSON.stringify(delivery.payload);
      const at = new Date();
      const headers = {
        'content-type': 'application/json',
        'user-agent': options.userAgent ?? 'oleada',
        'webhook-id': delivery.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signer.sign(delivery.id, at, body),
      };
      let response: { status: number; headers: IncomingHttpHeaders };
      try {
        response = await post(channel.url, headers, body, options.timeoutMs);
      } catch (err) {
        return { ok: false, statusCode: null, retry: 'schedule', error: toError(err).message };
      }
      const status = response.status;
      if (status >= 200 && status < 300) return { ok: true, statusCode: status };
      if (status === 410) return { ok: false, statusCode: status, retry: 'never', error: 'the receiver answered 410 Gone: no more deliveries to it' };
      const retryAfter = response.headers['retry-after'];
      const after = retryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
      return {
        ok: false,
        statusCode: status,
        retry: 'schedule',
        error: `the receiver answered ${status}${after !== undefined ? ` and asked to retry after ${Math.round(after / 1000)} s` : ''}`,
        ...(after !== undefined && { retryAfterMs: after }),
      };
    },
  };
}
