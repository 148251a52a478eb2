/** A notifications file for integration tests: webhook and Slack channels, every event subscribed to each. */
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { WebhookReceiver } from './webhook-receiver.ts';

export interface NotificationsSetup {
  file: string;
  /** Environment for the Oleada that reads the file (in this process, or a child). */
  env: Record<string, string>;
}

export async function writeNotificationsFile(options: { webhook?: WebhookReceiver; slackChannel?: string; schedule?: string }): Promise<NotificationsSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'oleada-notify-'));
  const file = join(dir, 'notifications.yaml');
  const secretEnv = `TEST_WEBHOOK_SECRET_${randomBytes(3).toString('hex').toUpperCase()}`;
  const channels: string[] = [];
  const names: string[] = [];
  if (options.webhook) {
    channels.push(`  - name: ci\n    webhook: { url: "${options.webhook.url}", secretEnv: ${secretEnv} }`);
    names.push('ci');
  }
  if (options.slackChannel) {
    channels.push(`  - name: releases\n    slack: { channel: "${options.slackChannel}" }`);
    names.push('releases');
  }
  await writeFile(file, `channels:\n${channels.join('\n')}\nsubscriptions:\n  - events: ["*"]\n    channels: [${names.join(', ')}]\n`);
  const env: Record<string, string> = {
    OLEADA_NOTIFICATIONS_FILE: file,
    OLEADA_DELIVERY_RETRY_SCHEDULE: options.schedule ?? '300ms,600ms,1s,2s,4s,8s,8s,8s,8s',
    OLEADA_DELIVERY_TIMEOUT_SECONDS: '2',
  };
  if (options.webhook) {
    env.OLEADA_WEBHOOK_ALLOWED_URLS = new URL('/', options.webhook.url).href;
    env[secretEnv] = options.webhook.secret;
    // The Oleada of an in-process stack reads the secret from this process's environment, as a real one does.
    process.env[secretEnv] = options.webhook.secret;
  }
  return { file, env };
}
