import { describe, expect, it } from 'vitest';
import { initialState } from '../../../src/model/state.ts';
import { decodeButtonValue } from '../../../src/model/slack-buttons.ts';
import { renderRolloutMessage, renderThreadReply, type MessageRollout } from '../../../src/notifications/slack-message.ts';

const LINKS = { api: 'https://o/api/v1/rollouts/r1', dashboard: 'https://o/rollouts/r1' };
const plan = { version: '2.0.0', image: 'shop/checkout:2.0.0', waves: [{ name: 'canary', clusters: ['eu-1'] }, { name: 'europe', clusters: ['eu-2', 'eu-3'] }] };

function rollout(change: (r: MessageRollout) => void = () => {}): MessageRollout {
  const r: MessageRollout = { id: 'r1', app: 'checkout', version: 7, phase: 'progressing', plan, state: initialState(plan) };
  r.state.waves = plan.waves.map((w) => ({ name: w.name, status: 'pending', approvedBy: null, startedAt: null, bakeUntil: null, finishedAt: null }));
  change(r);
  return r;
}

const buttons = (r: MessageRollout) =>
  (renderRolloutMessage(r, { links: LINKS }).blocks.find((b) => b.type === 'actions')?.elements as { action_id: string; value: string }[] | undefined) ?? [];

describe('the Slack message of a rollout', () => {
  it('has no buttons while the rollout moves on its own, and names app, version, status and every cluster', () => {
    const message = renderRolloutMessage(rollout(), { links: LINKS });
    expect(message.text).toBe('checkout 2.0.0: progressing');
    expect(JSON.stringify(message.blocks)).toMatch(/eu-1.*eu-2.*eu-3/);
    expect(buttons(rollout())).toEqual([]);
  });

  it('offers Approve for the waiting wave and Abort, carrying the rollout id and the revision rendered', () => {
    const r = rollout((r) => {
      r.phase = 'awaiting_approval';
      r.state.waves[1]!.status = 'awaiting_approval';
    });
    const [approve, abort] = buttons(r);
    expect(approve).toMatchObject({ action_id: 'approve' });
    expect(decodeButtonValue(approve!.value)).toEqual({ rolloutId: 'r1', revision: 7, wave: 'europe' });
    expect(abort).toMatchObject({ action_id: 'abort', confirm: { confirm: { text: 'Abort' } } });
    expect(decodeButtonValue(abort!.value)).toEqual({ rolloutId: 'r1', revision: 7 });
  });

  it('offers Promote for each cluster that waits for a person, and no buttons when asked to leave them out', () => {
    const r = rollout((r) => {
      r.phase = 'paused';
      r.state.clusters['eu-2']!.phase = 'canary';
      r.state.clusters['eu-3']!.phase = 'canary';
    });
    expect(buttons(r).map((b) => [b.action_id, decodeButtonValue(b.value)?.cluster])).toEqual([
      ['promote', 'eu-2'],
      ['promote', 'eu-3'],
      ['abort', undefined],
    ]);
    const quiet = renderRolloutMessage(r, { links: LINKS, withoutButtons: true, note: 'promoted by <@U1>' });
    expect(quiet.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(quiet.blocks)).toContain('promoted by <@U1>');
  });

  it('writes a thread reply naming the event, the wave and the cluster', () => {
    expect(renderThreadReply({ event: 'cluster.failed', message: 'eu-2: error rate 7%', cluster: 'eu-2', wave: 'europe' }).text).toBe(
      'cluster.failed (wave europe, cluster eu-2): eu-2: error rate 7%',
    );
  });
});
