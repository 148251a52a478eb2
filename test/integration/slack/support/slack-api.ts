/** The API of a stack with Slack turned on, pointed at a fake Slack, and the Slack users of slack-requests.ts. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../../src/api/app.ts';
import { TokenStore } from '../../../../src/api/auth/tokens.ts';
import type { FakeSlack, ResponsePost } from '../../../support/fake-slack.ts';
import { stackApiDeps, type Stack } from '../../../support/stack.ts';
import { waitFor } from '../../../support/wait.ts';
import { SIGNING_SECRET, slackTokensYaml } from './slack-requests.ts';

export async function serveSlackApi(stack: Stack, slack: FakeSlack): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildApp({
    ...stackApiDeps(stack),
    tokens: TokenStore.parse(slackTokensYaml(), 'slack test tokens'),
    rateLimit: false,
    slack: { signingSecret: SIGNING_SECRET, botToken: 'xoxb-test-bot', apiUrl: slack.apiUrl, outcomeWaitMs: 15_000 },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  app.server.keepAliveTimeout = 1_000;
  return { app, url };
}

/** The posts to the response_url of `key`, once there are at least `count`. */
export function repliesTo(slack: FakeSlack, key: string, count = 1): Promise<ResponsePost[]> {
  return waitFor(`${count} replies to ${key}`, () => {
    const posts = slack.responses.filter((r) => r.key === key);
    return posts.length >= count ? posts : undefined;
  }, 30_000);
}

/** The text of each reply to `key` (at least `count` of them). */
export async function replyTexts(slack: FakeSlack, key: string, count = 1): Promise<string[]> {
  return (await repliesTo(slack, key, count)).map((post) => String(post.body.text));
}
