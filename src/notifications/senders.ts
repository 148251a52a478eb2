/** The senders of one process (or the delivery thread): one per kind of channel it can send to. */
import type { Pool } from '../store/pool.ts';
import type { DeliveryDeps } from './deliver.ts';
import type { Channel } from './file.ts';
import type { Sender } from './sender.ts';
import { createWebhookSender } from './webhook.ts';

export interface SendersOptions {
  /** OLEADA_DELIVERY_TIMEOUT_SECONDS, in ms: the longest one try may take. */
  timeoutMs: number;
  /** Where the Slack sender reads the rollout and keeps its messages. */
  pool: Pool;
  publicUrl: string;
  /** OLEADA_SLACK_BOT_TOKEN and OLEADA_SLACK_API_URL; without a token Slack deliveries wait, saying why. */
  slack: { token: string | undefined; apiUrl: string };
}

type SlackChannel = Extract<Channel, { kind: 'slack' }>;

/**
 * The Slack sender, loaded at its first message: the Web API client and its dependencies weigh megabytes in every
 * thread that loads them (the delivery thread is one), and most installations send webhooks only.
 */
function lazySlackSender(token: string, options: SendersOptions): Sender<SlackChannel> {
  let loaded: Promise<Sender<SlackChannel>> | undefined;
  return {
    async send(delivery, channel) {
      loaded ??= Promise.all([import('./slack.ts'), import('./slack-client.ts')]).then(([slack, client]) =>
        slack.createSlackSender({
          client: client.createSlackClient({ token, apiUrl: options.slack.apiUrl, timeoutMs: options.timeoutMs }),
          pool: options.pool,
          publicUrl: options.publicUrl,
        }),
      );
      return (await loaded).send(delivery, channel);
    },
  };
}

export function createSenders(options: SendersOptions): DeliveryDeps['senders'] {
  const token = options.slack.token;
  return {
    webhook: createWebhookSender({ timeoutMs: options.timeoutMs }),
    ...(token !== undefined && { slack: lazySlackSender(token, options) }),
  };
}
