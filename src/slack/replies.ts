/**
 * What Oleada says back in Slack: posts to a `response_url` (the reply to a slash command or a click, valid for 30
 * minutes and five posts) and `chat.update` of the message a button sat on. The WebClient is built here with the bot
 * token by the one builder, src/notifications/slack-client.ts.
 */
import type { WebClient } from '@slack/web-api';
import { toError } from '../errors.ts';
import { createSlackClient } from '../notifications/slack-client.ts';

/** A reply to the person who asked, visible to them alone. */
export interface EphemeralReply {
  text: string;
}

export type PostReply = (responseUrl: string, reply: EphemeralReply) => Promise<void>;

const REPLY_TIMEOUT_MS = 5_000;

/** Posts an ephemeral reply to a response_url; a refusal or a network failure is an error for the caller to log. */
export const postReply: PostReply = async (responseUrl, reply) => {
  const response = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: reply.text }),
    signal: AbortSignal.timeout(REPLY_TIMEOUT_MS),
  });
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`Slack refused the reply to a response_url with HTTP ${response.status}`);
};

/** The Web API client for a click's follow-up, worth little after a minute: a long retry schedule would only hold shutdowns. */
export function createSlackWebClient(botToken: string, apiUrl: string): WebClient {
  return createSlackClient({ token: botToken, apiUrl, timeoutMs: REPLY_TIMEOUT_MS, retries: 2 });
}

/** A Block Kit block as Slack sends it back in a click's payload; only `type` matters here. */
export interface Block {
  type: string;
  [field: string]: unknown;
}

/**
 * The message a button was on, after the click acted: the same blocks without their buttons (so nobody acts on it
 * twice), and a line saying who did what. Built from the payload's copy of the message, so it does not depend on how
 * the notifications side renders messages.
 */
export function actedMessageBlocks(blocks: readonly Block[], line: string): Block[] {
  const kept = blocks.filter((block) => block.type !== 'actions');
  return [...kept, { type: 'context', elements: [{ type: 'mrkdwn', text: line }] }];
}

/** Replaces a message in place; the error says which call failed, never with the token. */
export async function updateMessage(web: WebClient, message: { channel: string; ts: string; text: string; blocks: Block[] }): Promise<void> {
  try {
    await web.chat.update({ channel: message.channel, ts: message.ts, text: message.text, blocks: message.blocks as never });
  } catch (err) {
    throw new Error(`chat.update of message ${message.ts} in ${message.channel} failed: ${toError(err).message}`, { cause: err });
  }
}
