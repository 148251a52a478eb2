/**
 * Requests as Slack sends them, signed in the test with the app's signing secret: slash-command forms and block_actions
 * payloads, and a tokens file that maps test Slack users to roles.
 */
import { hashToken } from '../../../../src/api/auth/tokens.ts';
import { encodeButtonValue, type ButtonAction, type ButtonValue } from '../../../../src/slack/button-value.ts';
import { slackSignature } from '../../../../src/slack/verify.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

/** Slack users of the tests: a release manager for every app, one limited to other apps, and a viewer. */
export const SLACK_USERS = {
  alice: { id: 'UALICE0001', role: 'deployer' },
  admin: { id: 'UADMIN0001', role: 'admin' },
  payments: { id: 'UPAY000001', role: 'deployer', apps: ['payments-*'] },
  victor: { id: 'UVIEW00001', role: 'viewer' },
  /** Not in the tokens file at all. */
  mallory: { id: 'UMALLORY01', role: undefined },
} as const;

export type SlackUserName = keyof typeof SLACK_USERS;

/** A tokens file with one API token and the Slack users above (mallory left out). */
export function slackTokensYaml(): string {
  const lines = ['tokens:', `  - { name: admin, sha256: ${hashToken('admin-token-0123456789').toString('hex')}, role: admin }`, 'slack:', '  users:'];
  for (const [name, user] of Object.entries(SLACK_USERS)) {
    if (user.role === undefined) continue;
    lines.push(`    - { id: ${user.id}, name: ${name}, role: ${user.role}${'apps' in user ? `, apps: ${JSON.stringify(user.apps)}` : ''} }`);
  }
  return lines.join('\n');
}

export interface SignOptions {
  secret?: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Extra headers, for instance X-Slack-Retry-Num. */
  headers?: Record<string, string>;
}

/** The headers Slack would send with this body. */
export function signedHeaders(body: string, options: SignOptions = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': slackSignature(options.secret ?? SIGNING_SECRET, timestamp, body),
    ...options.headers,
  };
}

/** The form body of `/oleada <text>` from `user`. */
export function slashCommandBody(user: SlackUserName, text: string, responseUrl: string, triggerId = `trigger-${Math.random().toString(36).slice(2)}`): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0000000000',
    team_domain: 'example',
    channel_id: 'C0RELEASES',
    channel_name: 'releases',
    user_id: SLACK_USERS[user].id,
    user_name: user,
    command: '/oleada',
    text,
    api_app_id: 'A0OLEADA00',
    response_url: responseUrl,
    trigger_id: triggerId,
  }).toString();
}

/** The message a notification posted, with its buttons, as Slack sends it back inside a click. */
export function notificationMessage(ts: string, buttons: { action: ButtonAction; value: ButtonValue }[]): Record<string, unknown> {
  return {
    type: 'message',
    ts,
    text: 'checkout 1.1.0: wave europe waits for approval',
    blocks: [
      { type: 'section', block_id: 'head', text: { type: 'mrkdwn', text: '*checkout* 1.1.0 — wave *europe* waits for approval' } },
      {
        type: 'actions',
        block_id: 'oleada-actions',
        elements: buttons.map(({ action, value }) => ({ type: 'button', action_id: action, text: { type: 'plain_text', text: action }, value: encodeButtonValue(value) })),
      },
    ],
  };
}

/** The form body of a click on `action` by `user`, on a message in channel C0RELEASES. */
export function clickBody(user: SlackUserName, action: ButtonAction | string, value: ButtonValue | string, responseUrl: string, options: { messageTs?: string; actionTs?: string } = {}): string {
  const messageTs = options.messageTs ?? '1700000001.000100';
  const encoded = typeof value === 'string' ? value : encodeButtonValue(value);
  const payload = {
    type: 'block_actions',
    user: { id: SLACK_USERS[user].id, username: user, name: user, team_id: 'T0000000000' },
    api_app_id: 'A0OLEADA00',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: messageTs, channel_id: 'C0RELEASES', is_ephemeral: false },
    trigger_id: `trigger-${Math.random().toString(36).slice(2)}`,
    team: { id: 'T0000000000', domain: 'example' },
    channel: { id: 'C0RELEASES', name: 'releases' },
    message: typeof value === 'string' ? notificationMessage(messageTs, []) : notificationMessage(messageTs, [{ action: action as ButtonAction, value }]),
    response_url: responseUrl,
    actions: [
      {
        action_id: action,
        block_id: 'oleada-actions',
        text: { type: 'plain_text', text: action },
        value: encoded,
        type: 'button',
        action_ts: options.actionTs ?? `${Date.now() / 1000}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** POSTs a signed body to `path` of the API at `url`. */
export async function postSigned(url: string, path: string, body: string, options: SignOptions = {}): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: signedHeaders(body, options), body });
}
