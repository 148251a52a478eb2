/**
 * Webhook channels: a JSON POST signed as Standard Webhooks specify (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), by the `standardwebhooks` package, with the secret named by the channel's `secretEnv`.
 */
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
      let response: Response;
      try {
        // A redirect could lead outside the URL allow-list, so it is a failure rather than followed.
        response = await fetch(channel.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (err) {
        const error = toError(err);
        const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
        const what = error.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `${error.message}${cause}`;
        return { ok: false, statusCode: null, retry: 'schedule', error: what };
      }
      await response.body?.cancel().catch(() => {});
      const status = response.status;
      if (status >= 200 && status < 300) return { ok: true, statusCode: status };
      if (status === 410) return { ok: false, statusCode: status, retry: 'never', error: 'the receiver answered 410 Gone: no more deliveries to it' };
      const after = retryAfterMs(response.headers.get('retry-after'));
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
