/**
 * What a waiting rollout needs from a person, in words a CI log can show: `--wait` must say plainly when nothing will
 * happen until someone acts, and who may.
 */
import type { RolloutStatus } from './types.ts';

/** Events after which the rollout may wait for a person. */
export const GATE_EVENTS = new Set(['wave.awaiting_approval', 'cluster.awaiting_promote', 'rollout.paused', 'rollout.awaiting_approval']);

/** Who may act on a rollout of `app`: the API lets a deployer or admin token act, if it is allowed for the app. */
function whoMayAct(app: string): string {
  return `a person with a deployer or admin token allowed for app ${app}`;
}

/** The line that says the rollout waits for a person, or null while it moves on by itself. */
export function personGate(status: RolloutStatus): string | null {
  const who = whoMayAct(status.app);
  if (status.phase === 'awaiting_approval') {
    const wave = status.currentWave?.name ?? 'the next wave';
    return `waiting for a person: wave ${wave} needs approval. Who may act: ${who}, with \`oleada rollout approve ${status.id}\` (or abort)`;
  }
  if (status.phase === 'paused') {
    const by = status.paused ? ` (${status.paused.reason}, by ${status.paused.actor})` : '';
    return `waiting for a person: the rollout is paused${by}. Who may act: ${who}, with \`oleada rollout resume ${status.id}\` (or abort)`;
  }
  const waiting = status.clusters.filter((c) => c.awaitingPromote).map((c) => c.name);
  if (status.phase === 'progressing' && waiting.length > 0) {
    return (
      `waiting for a person: ${waiting.join(', ')} ${waiting.length === 1 ? 'waits' : 'wait'} for promote at an untimed pause. ` +
      `Who may act: ${who}, with \`oleada rollout promote ${status.id}${waiting.length === 1 ? ` --cluster ${waiting[0]}` : ''}\``
    );
  }
  return null;
}

/** Where a rollout stands, for the message when `--timeout` ends the wait. */
export function standing(status: RolloutStatus): string {
  const gate = personGate(status);
  const wave = status.currentWave ? `, wave ${status.currentWave.name}` : '';
  return `rollout ${status.id} of ${status.app} ${status.version ?? ''} is ${status.phase}${wave}: ${status.reason}${gate ? `; ${gate}` : ''}`;
}
