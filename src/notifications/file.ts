/**
 * The notifications file (OLEADA_NOTIFICATIONS_FILE): the channels Oleada tells things to (a Slack channel, or a
 * webhook URL) and the subscriptions that say which events of which apps go to which channels. It holds no secret:
 * a webhook's signing secret is named by environment variable. Reloaded when it changes, like the clusters file.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Type } from 'typebox';
import { watchReloads, type DirectoryWatch } from '../clusters/file-watch.ts';
import { namedSecret } from '../config.ts';
import { toError } from '../errors.ts';
import { compileGlobs } from '../model/glob.ts';
import { allowListAdvice, urlAllowed } from '../model/url-allow-list.ts';
import type { SpecError } from '../spec/errors.ts';
import { DnsLabel } from '../spec/names.ts';
import { readConfigFile } from '../spec/config-file.ts';
import { NOTIFICATION_EVENTS, type NotificationEvent } from './events.ts';

const ENV_NAME = '^[A-Z_][A-Z0-9_]*$';

const ChannelSchema = Type.Object(
  {
    /** How subscriptions name the channel; unique in the file. */
    name: DnsLabel('a channel name'),
    /** A Slack channel, posted to with the bot token of OLEADA_SLACK_BOT_TOKEN. */
    slack: Type.Optional(
      Type.Object(
        { channel: Type.String({ minLength: 1, maxLength: 100, 'x-expected': 'a Slack channel id such as C0123456789, or #name' }) },
        { additionalProperties: false },
      ),
    ),
    /** A URL that receives JSON bodies signed as Standard Webhooks specify. */
    webhook: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2_000, 'x-expected': 'an http:// or https:// URL' }),
          /** The environment variable that holds the signing secret (whsec_ and base64, as Standard Webhooks gives them). */
          secretEnv: Type.String({ pattern: ENV_NAME, 'x-expected': 'the name of an environment variable, such as CI_WEBHOOK_SECRET' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const SubscriptionSchema = Type.Object(
  {
    events: Type.Array(Type.Union([...NOTIFICATION_EVENTS, '*'].map((e) => Type.Literal(e))), {
      minItems: 1,
      'x-expected': `a list of events: * or ${NOTIFICATION_EVENTS.join(', ')}`,
    }),
    /** App globs; absent: every app. */
    apps: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1 })),
    channels: Type.Array(DnsLabel('a channel name'), { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const NotificationsFileSchema = Type.Object(
  {
    channels: Type.Array(ChannelSchema, { maxItems: 1_000 }),
    subscriptions: Type.Array(SubscriptionSchema, { maxItems: 10_000 }),
  },
  { additionalProperties: false, 'x-expected': 'an object with channels and subscriptions' },
);

export type Channel =
  | { name: string; kind: 'slack'; slackChannel: string }
  | { name: string; kind: 'webhook'; url: string; secretEnv: string };

export interface Subscription {
  events: NotificationEvent[] | '*';
  apps: string[] | '*';
  channels: string[];
}

/** The file, checked: its channels by name and its subscriptions. Secrets are read when sending, not kept here. */
export interface Notifications {
  channels: Channel[];
  subscriptions: Subscription[];
}

export const NO_NOTIFICATIONS: Notifications = { channels: [], subscriptions: [] };

export interface NotificationsFileOptions {
  /** The prefixes of OLEADA_WEBHOOK_ALLOWED_URLS. */
  allowedUrls: readonly string[];
  /** Where secrets named by the file are looked up (process.env by default). */
  env?: NodeJS.ProcessEnv;
}

/** A notifications file that cannot be used; the message names the file and each problem at its path. */
export class NotificationsFileError extends Error {
  override name = 'NotificationsFileError';
  constructor(
    readonly file: string,
    readonly problems: SpecError[],
  ) {
    super(
      `notifications file ${file} is invalid:\n${problems
        .map((p) => `  ${p.path === '' ? '' : `${p.path}${p.line !== undefined ? ` (line ${p.line})` : ''}: `}${p.message}`)
        .join('\n')}`,
    );
  }
}

export function parseNotificationsFile(text: string, file: string, options: NotificationsFileOptions): Notifications {
  const path = resolve(file);
  const read = readConfigFile(text, NotificationsFileSchema);
  if (!read.ok) throw new NotificationsFileError(path, read.errors);
  const { value: input, located } = read;

  const problems: SpecError[] = [];
  const channels: Channel[] = [];
  const seen = new Map<string, number>();
  input.channels.forEach((entry, index) => {
    const at = `/channels/${index}`;
    const first = seen.get(entry.name);
    if (first !== undefined) problems.push({ path: `${at}/name`, message: `channel name ${entry.name} is already used at /channels/${first}` });
    seen.set(entry.name, index);
    if ((entry.slack === undefined) === (entry.webhook === undefined)) {
      problems.push({ path: at, message: 'must have exactly one of slack: { channel } or webhook: { url, secretEnv }' });
      return;
    }
    if (entry.slack) {
      channels.push({ name: entry.name, kind: 'slack', slackChannel: entry.slack.channel });
      return;
    }
    const webhook = entry.webhook!;
    if (!urlAllowed(webhook.url, options.allowedUrls)) {
      problems.push({ path: `${at}/webhook/url`, message: `${webhook.url} may not be called: ${allowListAdvice(options.allowedUrls)}` });
    }
    if (namedSecret(webhook.secretEnv, options.env) === undefined) {
      problems.push({ path: `${at}/webhook/secretEnv`, message: `the environment variable ${webhook.secretEnv} is not set; set it to the signing secret (whsec_...)` });
    }
    channels.push({ name: entry.name, kind: 'webhook', url: webhook.url, secretEnv: webhook.secretEnv });
  });
  input.subscriptions.forEach((subscription, index) => {
    subscription.channels.forEach((name, i) => {
      if (!seen.has(name)) {
        problems.push({
          path: `/subscriptions/${index}/channels/${i}`,
          message: `no channel is named ${name} (channels: ${[...seen.keys()].join(', ') || 'none'})`,
        });
      }
    });
  });
  if (problems.length > 0) throw new NotificationsFileError(path, located(problems));
  return {
    channels,
    subscriptions: input.subscriptions.map((s) => ({
      events: (s.events as string[]).includes('*') ? '*' : (s.events as NotificationEvent[]),
      apps: s.apps === undefined || s.apps.includes('*') ? '*' : s.apps,
      channels: s.channels,
    })),
  };
}

export async function loadNotificationsFile(file: string, options: NotificationsFileOptions): Promise<Notifications> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NotificationsFileError(path, [{ path: '', message: code === 'ENOENT' ? 'does not exist' : `cannot be read: ${toError(err).message}` }]);
  }
  return parseNotificationsFile(text, path, options);
}

/** The channels each event of an app goes to, once each, in the file's order. */
export function channelsFor(notifications: Notifications, app: string, event: NotificationEvent): Channel[] {
  const names = new Set<string>();
  for (const subscription of notifications.subscriptions) {
    if (subscription.events !== '*' && !subscription.events.includes(event)) continue;
    if (subscription.apps !== '*' && !compileGlobs(subscription.apps)(app)) continue;
    for (const name of subscription.channels) names.add(name);
  }
  return notifications.channels.filter((channel) => names.has(channel.name));
}

/** The notifications file as it is now, kept current by a watcher; without a file, no channel and no subscription. */
export class NotificationsSource {
  private watcher: DirectoryWatch | null = null;
  private readonly listeners = new Set<(value: Notifications) => void>();

  private constructor(private value: Notifications) {}

  static fixed(value: Notifications): NotificationsSource {
    return new NotificationsSource(value);
  }

  static async load(
    file: string,
    options: NotificationsFileOptions & { watch?: boolean; debounceMs?: number; onReload?: (err?: Error) => void },
  ): Promise<NotificationsSource> {
    if (file === '') return new NotificationsSource(NO_NOTIFICATIONS);
    const source = new NotificationsSource(await loadNotificationsFile(file, options));
    if (options.watch) {
      const path = resolve(file);
      let initialKey: string | undefined;
      try {
        initialKey = JSON.stringify(parseNotificationsFile(readFileSync(path, 'utf8'), path, options));
      } catch {
        initialKey = undefined;
      }
      source.watcher = watchReloads(
        path,
        () => loadNotificationsFile(path, options),
        (next) => {
          source.value = next;
          for (const listener of source.listeners) listener(next);
          options.onReload?.();
        },
        (err) => options.onReload?.(err),
        { initialKey, debounceMs: options.debounceMs ?? 100 },
      );
    }
    return source;
  }

  current(): Notifications {
    return this.value;
  }

  /** Calls `listener` with every file accepted by a reload, from now on; returns what stops it. */
  onChange(listener: (value: Notifications) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
