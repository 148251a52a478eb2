import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NotificationsSource } from '../../../src/notifications/file.ts';
import { waitFor } from '../../support/wait.ts';

const file = (channel: string) => `channels:\n  - { name: ${channel}, slack: { channel: C1 } }\nsubscriptions:\n  - { events: ["*"], channels: [${channel}] }\n`;

describe('the notifications file, reloaded', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('picks up a good edit, and keeps the last good file through a bad one, saying where the problem is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oleada-notifications-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'notifications.yaml');
    await writeFile(path, file('releases'));
    const errors: string[] = [];
    const source = await NotificationsSource.load(path, { allowedUrls: [], watch: true, debounceMs: 20, onReload: (err) => err && errors.push(err.message) });
    cleanups.push(() => source.close());
    expect(source.current().channels.map((c) => c.name)).toEqual(['releases']);

    await writeFile(path, file('deploys'));
    await waitFor('the edit to be picked up', () => source.current().channels[0]?.name === 'deploys', 10_000);

    await writeFile(path, 'channels:\n  - { name: ci, webhook: { url: "https://x.internal/", secretEnv: NOPE_NOT_SET } }\nsubscriptions: []\n');
    await waitFor('the bad edit to be reported', () => errors.length > 0, 10_000);
    expect(errors[0]).toMatch(/\/channels\/0\/webhook\/url \(line 2\).*OLEADA_WEBHOOK_ALLOWED_URLS/);
    expect(source.current().channels.map((c) => c.name)).toEqual(['deploys']);
  });

  it('is empty without a file', async () => {
    const source = await NotificationsSource.load('', { allowedUrls: [] });
    expect(source.current()).toEqual({ channels: [], subscriptions: [] });
  });
});
