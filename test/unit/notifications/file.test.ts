import { describe, expect, it } from 'vitest';
import { channelsFor, NotificationsFileError, parseNotificationsFile } from '../../../src/notifications/file.ts';
import { deliveriesFor } from '../../../src/notifications/outbox.ts';

const OPTIONS = { allowedUrls: ['https://hooks.internal/'], env: { CI_SECRET: 'whsec_c2VjcmV0' } };
const FILE = `
channels:
  - name: releases
    slack: { channel: C0123456789 }
  - name: ci
    webhook: { url: https://hooks.internal/oleada, secretEnv: CI_SECRET }
subscriptions:
  - events: [wave.awaiting_approval, rollout.failed]
    channels: [releases]
  - events: ["*"]
    apps: ["checkout*"]
    channels: [ci, releases]
`;

function problems(text: string, options = OPTIONS): string {
  try {
    parseNotificationsFile(text, '/etc/oleada/notifications.yaml', options);
  } catch (err) {
    expect(err).toBeInstanceOf(NotificationsFileError);
    return (err as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('the notifications file', () => {
  it('routes each event of an app to the channels subscribed to it, once each', () => {
    const file = parseNotificationsFile(FILE, 'n.yaml', OPTIONS);
    expect(channelsFor(file, 'checkout', 'wave.awaiting_approval').map((c) => c.name)).toEqual(['releases', 'ci']);
    expect(channelsFor(file, 'checkout-eu', 'cluster.promoted').map((c) => c.name)).toEqual(['releases', 'ci']);
    expect(channelsFor(file, 'payments', 'cluster.promoted')).toEqual([]);
    expect(channelsFor(file, 'payments', 'rollout.failed').map((c) => c.name)).toEqual(['releases']);
  });

  it('turns engine events into deliveries, with rollout.started for the first move out of pending', () => {
    const file = parseNotificationsFile(FILE, 'n.yaml', OPTIONS);
    const rollout = { id: 'r1', app: 'payments', plan: { version: '2.0.0', image: 'pay:2.0.0' } };
    const event = (type: string, data: Record<string, unknown> = {}) => ({ seq: 1, type, wave: null, cluster: null, actor: 'oleada', message: '', data });
    expect(deliveriesFor(file, rollout, [event('rollout.progressing', { from: 'pending' }), event('cluster.step')], 'http://o')).toEqual([]);
    const [delivery] = deliveriesFor(file, rollout, [event('rollout.failed')], 'http://o');
    expect(delivery).toMatchObject({ channel: 'releases', kind: 'slack', eventType: 'rollout.failed' });
    expect(delivery!.id).toMatch(/^msg_[0-9a-f]{32}$/);
    const started = deliveriesFor(file, { ...rollout, app: 'checkout' }, [event('rollout.progressing', { from: 'pending' })], 'http://o/');
    expect(started.find((d) => d.kind === 'webhook')!.payload).toMatchObject({
      type: 'rollout.started',
      data: { rolloutId: 'r1', app: 'checkout', version: '2.0.0', links: { api: 'http://o/api/v1/rollouts/r1', dashboard: 'http://o/rollouts/r1' } },
    });
  });

  it('names the setting to change when a webhook URL is outside the allow-list', () => {
    expect(problems(FILE, { ...OPTIONS, allowedUrls: [] })).toMatch(
      /\/channels\/1\/webhook\/url \(line 6\): https:\/\/hooks.internal\/oleada may not be called: no URL is allowed: .*OLEADA_WEBHOOK_ALLOWED_URLS/,
    );
  });

  it('says which secret variable is not set, an unknown channel, a duplicate name and an unknown event, each at its path', () => {
    const message = problems(
      `channels:
  - { name: ci, webhook: { url: "https://hooks.internal/a", secretEnv: MISSING_SECRET } }
  - { name: ci, slack: { channel: C1 } }
  - { name: both }
subscriptions:
  - { events: [rollout.started], channels: [pager] }
`,
    );
    expect(message).toMatch(/\/channels\/0\/webhook\/secretEnv.*MISSING_SECRET is not set/);
    expect(message).toMatch(/\/channels\/1\/name.*already used at \/channels\/0/);
    expect(message).toMatch(/\/channels\/2.*exactly one of slack/);
    expect(message).toMatch(/\/subscriptions\/0\/channels\/0.*no channel is named pager/);
    expect(problems('channels: []\nsubscriptions:\n  - { events: [rollout.begun], channels: [x] }\n')).toMatch(/\/subscriptions\/0\/events\/0/);
  });
});
