/**
 * Slack channels: one message per rollout and channel, posted the first time and then updated in place
 * (chat.update) from the rollout's current state, with a thread reply for each event that calls for a person. Where
 * the message is lives in PostgreSQL, so an update after a restart still finds it.
 */
import type { WebClient } from '@slack/web-api';
import { toError } from '../errors.ts';
import { renderRolloutMessage, renderThreadReply } from './slack-message.ts';
import type { Pool } from '../store/pool.ts';
import { getRollout } from '../store/rollouts.ts';
import { forgetSlackMessage, getSlackMessage, saveSlackMessage, withSlackMessageLock } from '../store/slack-messages.ts';
import { callsForAttention, NOTIFICATION_EVENTS, type NotificationEvent } from './events.ts';
import type { Channel } from './file.ts';
import { rolloutLinks } from './outbox.ts';
import type { Sender, TryResult } from './sender.ts';

type SlackChannel = Extract<Channel, { kind: 'slack' }>;

export interface SlackSenderOptions {
  client: WebClient;
  pool: Pool;
  publicUrl: string;
}

/** A Web API failure as a try's result: rate limits wait as Slack asks, everything else follows the schedule. */
function failureOf(err: unknown): TryResult {
  const error = toError(err) as Error & { code?: string; retryAfter?: number; data?: { error?: string } };
  if (error.code === 'slack_webapi_rate_limited_error') {
    return { ok: false, statusCode: 429, retry: 'schedule', error: 'Slack answered ratelimited', retryAfterMs: (error.retryAfter ?? 1) * 1000 };
  }
  const said = error.data?.error;
  return { ok: false, statusCode: null, retry: 'schedule', error: said ? `Slack answered ${said}` : error.message };
}

export function createSlackSender(options: SlackSenderOptions): Sender<SlackChannel> {
  const { client, pool } = options;
  return {
    async send(delivery, channel): Promise<TryResult> {
      const rollout = await getRollout(pool, delivery.rolloutId);
      if (!rollout) return { ok: false, statusCode: null, retry: 'never', error: `rollout ${delivery.rolloutId} no longer exists` };
      const message = renderRolloutMessage(rollout, { links: rolloutLinks(options.publicUrl, rollout.id) });
      const payload = delivery.payload as { event: string; message: string; cluster: string | null; wave: string | null };
      try {
        await withSlackMessageLock(pool, rollout.id, channel.name, async () => {
          let ref = await getSlackMessage(pool, rollout.id, channel.name);
          if (ref) {
            try {
              await client.chat.update({ channel: ref.slackChannel, ts: ref.ts, text: message.text, blocks: message.blocks });
            } catch (err) {
              // Someone deleted the message in Slack: post a new one rather than fail every update from now on.
              if ((err as { data?: { error?: string } }).data?.error !== 'message_not_found') throw err;
              await forgetSlackMessage(pool, rollout.id, channel.name);
              ref = undefined;
            }
          }
          if (!ref) {
            const posted = await client.chat.postMessage({ channel: channel.slackChannel, text: message.text, blocks: message.blocks });
            ref = { slackChannel: posted.channel ?? channel.slackChannel, ts: posted.ts ?? '' };
            await saveSlackMessage(pool, rollout.id, channel.name, ref);
          }
          const event = payload.event as NotificationEvent;
          if ((NOTIFICATION_EVENTS as readonly string[]).includes(event) && callsForAttention(event)) {
            const reply = renderThreadReply(payload);
            await client.chat.postMessage({ channel: ref.slackChannel, thread_ts: ref.ts, text: reply.text, blocks: reply.blocks });
          }
        });
      } catch (err) {
        return failureOf(err);
      }
      return { ok: true, statusCode: 200 };
    },
  };
}
