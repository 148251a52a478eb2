/**
 * The Slack message of a rollout, in Block Kit: one message per rollout and channel, rendered from the rollout's
 * current state each time it is updated, and the thread replies that call for a person. While a wave waits for
 * approval or a cluster for promotion, the message carries Approve / Promote / Abort buttons whose value is the
 * rollout id and the revision it was rendered at (src/model/slack-buttons.ts). Pure: the notifications sender and the
 * Slack interactions both render with it.
 */
import type { Phase, RolloutState } from '../model/state.ts';
import { encodeButtonValue } from '../model/slack-buttons.ts';

/** What the message shows of a rollout. */
export interface MessageRollout {
  id: string;
  app: string;
  /** The rollout's version (revision): what its buttons carry. */
  version: number;
  phase: Phase;
  plan: { version: string; image: string; waves: { name: string; clusters: string[] }[] };
  state: Pick<RolloutState, 'reason' | 'waves' | 'clusters' | 'paused'>;
}

export interface MessageOptions {
  links: { api: string; dashboard: string };
  /** A mrkdwn line under the status, such as `approved by <@U123>` after an action from Slack (not escaped: mentions work). */
  note?: string;
  /** Leave the buttons out even when the rollout waits (after someone has acted on this message). */
  withoutButtons?: boolean;
}

export type Block = { type: string; [key: string]: unknown };

export interface SlackMessage {
  /** The notification text (and what clients without Block Kit show). */
  text: string;
  blocks: Block[];
}

const PHASE_WORDS: Record<Phase, string> = {
  pending: ':hourglass: pending',
  progressing: ':arrow_forward: progressing',
  paused: ':double_vertical_bar: paused',
  awaiting_approval: ':raised_hand: waiting for approval',
  rolling_back: ':rewind: rolling back',
  succeeded: ':white_check_mark: succeeded',
  rolled_back: ':leftwards_arrow_with_hook: rolled back',
  aborted: ':no_entry: aborted',
  failed: ':x: failed',
};

const CLUSTER_MARK: Record<string, string> = {
  pending: ':white_circle:',
  canary: ':large_yellow_circle:',
  promoting: ':large_yellow_circle:',
  promoted: ':large_green_circle:',
  rolling_back: ':large_orange_circle:',
  rolled_back: ':leftwards_arrow_with_hook:',
  failed: ':red_circle:',
};

/** Slack refuses a text object over 3,000 characters; a long reason is cut rather than the message lost. */
function clip(text: string, max = 2_900): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function clusterLine(rollout: MessageRollout, name: string): string {
  const cluster = rollout.state.clusters[name];
  if (!cluster) return `:white_circle: ${escape(name)}`;
  const weight = cluster.phase === 'canary' ? ` ${cluster.actualWeight}%` : '';
  const waiting = cluster.awaitingPromote ? ' (waits for promote)' : '';
  return `${CLUSTER_MARK[cluster.phase] ?? ':white_circle:'} ${escape(name)} ${cluster.phase.replace('_', ' ')}${weight}${waiting}`;
}

/** The buttons the rollout's state calls for, if any. */
export function messageButtons(rollout: MessageRollout): Block | undefined {
  const elements: Block[] = [];
  const base = { rolloutId: rollout.id, revision: rollout.version };
  if (rollout.phase === 'awaiting_approval') {
    const wave = rollout.state.waves.find((w) => w.status === 'awaiting_approval');
    if (wave) {
      elements.push({
        type: 'button',
        action_id: 'approve',
        style: 'primary',
        text: { type: 'plain_text', text: `Approve ${clip(wave.name, 60)}` },
        value: encodeButtonValue({ ...base, wave: wave.name }),
      });
    }
  }
  const held = Object.values(rollout.state.clusters).filter(
    (c) => c.phase === 'canary' && (c.awaitingPromote || rollout.phase === 'paused'),
  );
  // Block Kit allows 25 elements in an actions block; a person promotes a handful of clusters by hand at most.
  for (const cluster of held.slice(0, 5)) {
    elements.push({
      type: 'button',
      action_id: 'promote',
      text: { type: 'plain_text', text: `Promote ${clip(cluster.name, 60)}` },
      value: encodeButtonValue({ ...base, cluster: cluster.name }),
    });
  }
  if (elements.length === 0) return undefined;
  elements.push({
    type: 'button',
    action_id: 'abort',
    style: 'danger',
    text: { type: 'plain_text', text: 'Abort' },
    value: encodeButtonValue(base),
    confirm: {
      title: { type: 'plain_text', text: 'Abort the rollout?' },
      text: { type: 'mrkdwn', text: clip(`Every cluster of *${escape(rollout.app)}* goes back to its stable version.`) },
      confirm: { type: 'plain_text', text: 'Abort' },
      deny: { type: 'plain_text', text: 'Keep going' },
      style: 'danger',
    },
  });
  return { type: 'actions', block_id: 'oleada_actions', elements };
}

export function renderRolloutMessage(rollout: MessageRollout, options: MessageOptions): SlackMessage {
  const title = `${rollout.app} ${rollout.plan.version}`;
  const status = PHASE_WORDS[rollout.phase];
  const blocks: Block[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*<${options.links.dashboard}|${escape(title)}>*  ${status}\n${escape(rollout.state.reason)}`) },
    },
  ];
  const waves = rollout.plan.waves.map((wave, index) => {
    const state = rollout.state.waves[index];
    const clusters = wave.clusters.map((name) => clusterLine(rollout, name)).join('  ');
    return `*${escape(wave.name)}* (${state?.status.replace('_', ' ') ?? 'pending'}): ${clusters}`;
  });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(waves.join('\n')) } });
  if (options.note) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(options.note) }] });
  const buttons = options.withoutButtons ? undefined : messageButtons(rollout);
  if (buttons) blocks.push(buttons);
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: clip(`${escape(rollout.plan.image)} · <${options.links.dashboard}|dashboard> · <${options.links.api}|API> · id ${rollout.id}`) }],
  });
  return { text: clip(`${title}: ${status.replace(/^:[a-z_]+: /, '')}`), blocks };
}

/** A thread reply for an event that calls for a person: a failure, a rollback, a wait for approval or promotion. */
export function renderThreadReply(event: { event: string; message: string; cluster: string | null; wave: string | null }): SlackMessage {
  const where = [event.wave && `wave ${event.wave}`, event.cluster && `cluster ${event.cluster}`].filter(Boolean).join(', ');
  const text = clip(`${event.event}${where ? ` (${where})` : ''}: ${event.message}`);
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*${escape(event.event)}*${where ? ` · ${escape(where)}` : ''}\n${escape(event.message)}`) } }] };
}
