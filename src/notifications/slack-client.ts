/**
 * The one place that builds a Slack Web API client. By default retries are not the client's business: a notification's
 * retries belong to the outbox (kept in PostgreSQL, Retry-After honoured there), so the client fails at once on a rate
 * limit instead of sleeping inside a job. The follow-up of a click (chat.update of its message) has no outbox, so it
 * asks for a few quick retries, rate limits waited out.
 */
import { LogLevel, WebClient } from '@slack/web-api';

export interface SlackClientOptions {
  /** The bot token (OLEADA_SLACK_BOT_TOKEN). */
  token: string;
  /** OLEADA_SLACK_API_URL: Slack's own, or a local fake in tests. */
  apiUrl: string;
  timeoutMs: number;
  /** Quick retries by the client itself (default none). */
  retries?: number;
}

export function createSlackClient(options: SlackClientOptions): WebClient {
  return new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    timeout: options.timeoutMs,
    retryConfig: { retries: options.retries ?? 0, factor: 2, minTimeout: 200, maxTimeout: 2_000 },
    rejectRateLimitedCalls: (options.retries ?? 0) === 0,
    // The client's own logger writes to the console; its errors reach Oleada's log through the callers.
    logLevel: LogLevel.ERROR,
    // A method name that is an absolute URL must not send the bot token elsewhere.
    allowAbsoluteUrls: false,
  });
}
