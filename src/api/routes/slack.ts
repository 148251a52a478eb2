/**
 * Slack's two callbacks: POST /slack/commands (the `/oleada` slash command) and POST /slack/interactions (button
 * clicks). Nothing is read before the signature is checked, over the bytes exactly as Slack sent them: this plugin
 * replaces every body parser with one that keeps the raw Buffer, so the form is decoded only after the check. Anything
 * unsigned, badly signed or older than five minutes gets the same bare 401.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Value } from 'typebox/value';
import type { WebClient } from '@slack/web-api';
import type { RolloutService } from '../../engine/rollout-service.ts';
import type { Logger } from '../../log.ts';
import type { Pool } from '../../store/pool.ts';
import { BackgroundWork } from '../../slack/background.ts';
import { handleInteraction } from '../../slack/buttons.ts';
import type { Ack, SlackContext } from '../../slack/context.ts';
import { createSlackWebClient, postReply, type PostReply } from '../../slack/replies.ts';
import { handleSlashCommand, SlashCommandFormSchema } from '../../slack/slash-command.ts';
import type { SlackUserLookup } from '../../slack/users.ts';
import { verifySlackRequest } from '../../slack/verify.ts';
import { sendProblem } from '../problem.ts';

export interface SlackOptions {
  /** OLEADA_SLACK_SIGNING_SECRET. */
  signingSecret: string;
  /** OLEADA_SLACK_BOT_TOKEN: without it a used button stays on its message. */
  botToken?: string;
  /** OLEADA_SLACK_API_URL. */
  apiUrl?: string;
  /** How long a reply waits for the engine to apply a command (default 10 s). */
  outcomeWaitMs?: number;
  /** Replaces the response_url poster (tests); default: a POST with a timeout. */
  reply?: PostReply;
  /** Replaces the Web API client (tests); default: one built from botToken and apiUrl. */
  web?: WebClient;
  /** The clock the timestamp is checked against (tests); default Date.now. */
  now?: () => number;
}

export interface SlackRouteDeps {
  pool: Pool;
  service: RolloutService | undefined;
  users: SlackUserLookup;
  logger: Logger;
  options: SlackOptions;
}

/** Slack posts forms of a few kilobytes; a click's payload repeats its whole message, which stays far below this. */
const BODY_LIMIT = 256 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as Slack sent it, for the signature; set by the slack routes' own parser. */
    slackRaw?: Buffer;
  }
}

function unauthorized(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(request, reply, 401, 'unauthorized', 'the request is not signed by Slack');
}

function send(request: FastifyRequest, reply: FastifyReply, ack: Ack): FastifyReply {
  if (ack.problem !== undefined) return sendProblem(request, reply, ack.status, 'invalid_slack_request', ack.problem);
  if (ack.body === undefined) return reply.code(ack.status).send();
  return reply.code(ack.status).send(ack.body);
}

function formOf(raw: Buffer): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
}

export function slackRoutes(deps: SlackRouteDeps): FastifyPluginAsync {
  const { options } = deps;
  const now = options.now ?? Date.now;
  return async (app) => {
    const work = new BackgroundWork(deps.logger);
    const context: SlackContext = {
      pool: deps.pool,
      service: deps.service,
      users: deps.users,
      web: options.web ?? (options.botToken ? createSlackWebClient(options.botToken, options.apiUrl ?? 'https://slack.com/api/') : undefined),
      reply: options.reply ?? postReply,
      work,
      logger: deps.logger,
      outcomeWaitMs: options.outcomeWaitMs ?? 10_000,
    };
    // Replies and commands already under way finish before the server's connections close.
    app.addHook('onClose', async () => work.drain());

    // Every body, whatever its content type (or none), is kept as bytes: the signature covers them, not a decoding.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

    app.addHook('preHandler', async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signed = verifySlackRequest(
        options.signingSecret,
        { timestamp: request.headers['x-slack-request-timestamp'], signature: request.headers['x-slack-signature'] },
        raw,
        now(),
      );
      if (!signed) return unauthorized(request, reply);
      request.slackRaw = raw;
    });

    const config = { access: 'open' as const };
    const schema = { hide: true };

    app.post('/slack/commands', { config, schema, bodyLimit: BODY_LIMIT }, async (request, reply) => {
      const form = formOf(request.slackRaw!);
      if (!Value.Check(SlashCommandFormSchema, form)) {
        const first = [...Value.Errors(SlashCommandFormSchema, form)][0];
        return send(request, reply, { status: 400, body: undefined, problem: `the slash command form is invalid at ${first?.instancePath || '/'}: ${first?.message ?? 'unexpected shape'}` });
      }
      return send(request, reply, handleSlashCommand(context, form));
    });

    app.post('/slack/interactions', { config, schema, bodyLimit: BODY_LIMIT }, async (request, reply) => {
      const retry = request.headers['x-slack-retry-num'] !== undefined;
      return send(request, reply, handleInteraction(context, formOf(request.slackRaw!).payload, retry));
    });
  };
}
