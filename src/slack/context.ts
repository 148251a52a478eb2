/** What the Slack handlers share: built once by the API (api/routes/slack.ts) and handed to each of them. */
import type { WebClient } from '@slack/web-api';
import type { RolloutService } from '../engine/rollout-service.ts';
import type { Logger } from '../log.ts';
import type { Pool } from '../store/pool.ts';
import type { BackgroundWork } from './background.ts';
import type { PostReply } from './replies.ts';
import type { SlackUserLookup } from './users.ts';

export interface SlackContext {
  pool: Pool;
  /** The engine's front door; without it commands are refused with a reply that says so. */
  service: RolloutService | undefined;
  /** Slack users as the tokens file says right now. */
  users: SlackUserLookup;
  /** Updates a message in place after a click; without a bot token messages keep their buttons. */
  web: WebClient | undefined;
  reply: PostReply;
  work: BackgroundWork;
  logger: Logger;
  /** How long a reply waits for the engine to apply a stored command before it says "stored" instead. */
  outcomeWaitMs: number;
}

/** What the route answers Slack at once: a status and a body (for a slash command, the ephemeral text). */
export interface Ack {
  status: number;
  body: Record<string, unknown> | undefined;
  /** For a 400: what is wrong with a request that was signed but is not one Slack sends. */
  problem?: string;
}

/** Slack wants a 200 for a click, with nothing in it: any reply goes to the response_url. */
export const EMPTY_ACK: Ack = { status: 200, body: undefined };

export function badPayload(problem: string): Ack {
  return { status: 400, body: undefined, problem };
}

export function ephemeral(text: string): Ack {
  return { status: 200, body: { response_type: 'ephemeral', text } };
}

/** The person behind a request: the Slack id and the name Slack sent, and what the tokens file says of them. */
export interface SlackPerson {
  id: string;
  name: string;
}
