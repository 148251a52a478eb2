/** The senders of one process (or the delivery thread): one per kind of channel it can send to. */
import { createSlackClient } from './slack-client.ts';
import type { Pool } from '../store/pool.ts';
import type { DeliveryDeps } from './deliver.ts';
import { createSlackSender } from './slack.ts';
import { createWebhookSender } from './webhook.ts';

export interface SendersOptions {
  /** OLEADA_DELIVERY_TIMEOUT_SECONDS, in ms: the longest one try may take. */
  timeoutMs: number;
  /** Where the Slack sender reads the rollout and keeps its messages. */
  pool: Pool;
  publicUrl: string;
  /** OLEADA_SLACK_BOT_TOKEN and OLEADA_SLACK_API_URL; without a token Slack deliveries wait, saying why. */
  slack?: { token: string | undefined; apiUrl: string };
}

export function createSenders(options: SendersOptions): DeliveryDeps['senders'] {
  const token = options.slack?.token;
  return {
    webhook: createWebhookSender({ timeoutMs: options.timeoutMs }),
    ...(token !== undefined &&
      options.slack && {
        slack: createSlackSender({
          client: createSlackClient({ token, apiUrl: options.slack.apiUrl, timeoutMs: options.timeoutMs }),
          pool: options.pool,
          publicUrl: options.publicUrl,
        }),
      }),
  };
}
