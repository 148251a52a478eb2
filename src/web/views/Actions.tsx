/**
 * The commands a deployer may give the rollout, each behind a confirmation that names its target. Every command
 * carries the ETag of the rollout as the page showed it, so one made on a state that has moved on is refused.
 */
import { useRef, useState } from 'preact/hooks';
import { api, ApiError, Unreachable, type CommandBody, type CommandType } from '../api.ts';
import { ConfirmDialog, type ConfirmRequest } from '../components/Confirm.tsx';
import { PHASES } from '../format.ts';
import type { Rollout } from '../types.ts';

export interface CommandOutcome {
  ok: boolean;
  text: string;
}

/** Builds confirmations for a rollout and reports the outcome; the buttons are rendered where they belong. */
export function useCommands(rollout: Rollout | undefined, etag: string | null, onDone: () => void) {
  const [request, setRequest] = useState<ConfirmRequest | null>(null);
  const [outcome, setOutcome] = useState<CommandOutcome | null>(null);
  const target = rollout ? `${rollout.app} ${rollout.version ?? ''}`.trim() : '';
  const latest = useRef(etag);
  latest.current = etag;

  /**
   * Approve and promote are decisions about the state on screen when the dialog opened: they carry that revision, and
   * a rollout that moved on meanwhile refuses them (412). Pause, resume and abort mean the same on any newer state of
   * the rollout (analysis alone bumps the revision every interval): they carry the revision the page shows when the
   * person confirms. When the revision sent is stale but the phase is still the one shown, every command but promote
   * is sent once more for the current revision. An approve names its wave, and the API takes it only while that wave
   * waits, so it still means what the person decided; the revision may have moved only because the engine recorded
   * the end of the step that brought the wave there. A promote does not: a cluster's steps move on by themselves.
   */
  const ask = (type: CommandType, title: string, effect: string, body: CommandBody, options: Partial<ConfirmRequest> = {}) => {
    if (!rollout) return;
    const pinned = type === 'approve' || type === 'promote' ? etag : null;
    setRequest({
      title,
      effect,
      confirmLabel: title,
      ...options,
      run: async (reason) => {
        try {
          const payload = { ...body, ...(reason ? { reason } : {}) };
          try {
            await api.command(rollout.id, type, payload, pinned ?? latest.current);
          } catch (err) {
            // Only the engine's bookkeeping moved the revision, not the phase the person decided on.
            const now = err instanceof ApiError && err.status === 412 ? err.body : null;
            if (type === 'promote' || !now || now.phase !== rollout.phase || typeof now.revision !== 'number') throw err;
            await api.command(rollout.id, type, { ...payload, revision: now.revision }, null);
          }
          setOutcome({ ok: true, text: `${title}: sent. The rollout applies it on its next step.` });
        } catch (err) {
          setOutcome({ ok: false, text: refusal(title, err) });
        }
        onDone();
      },
    });
  };

  const dialog = <ConfirmDialog request={request} onClose={() => setRequest(null)} />;
  return {
    dialog,
    outcome,
    approve: (wave: string) =>
      ask('approve', `Approve wave ${wave}`, `The clusters of wave ${wave} start their canary steps for ${target}.`, { wave }),
    promote: (cluster: string, full: boolean) =>
      ask(
        'promote',
        full ? `Promote ${cluster} fully` : `Promote ${cluster}`,
        full
          ? `${cluster} skips its remaining canary steps and analysis and gets ${target} on every pod.`
          : `${cluster} ends its current pause and goes on to its next step of ${target}.`,
        { cluster, ...(full ? { full: true } : {}) },
      ),
    pause: () => ask('pause', `Pause ${target}`, `${target} stops where it is; no cluster moves until someone resumes it.`, {}, { reason: 'optional' }),
    resume: () => ask('resume', `Resume ${target}`, `${target} goes on from where it was paused.`, {}),
    abort: () =>
      ask(
        'abort',
        `Abort ${target}`,
        `${target} is rolled back on every cluster it reached, and the rollout ends as aborted. This cannot be undone.`,
        {},
        { reason: 'required', danger: true },
      ),
  };
}

function refusal(title: string, err: unknown): string {
  if (err instanceof ApiError && err.status === 412) {
    const phase = typeof err.body.phase === 'string' && err.body.phase in PHASES ? PHASES[err.body.phase as keyof typeof PHASES].label : null;
    const now = phase ? ` It is now ${phase.toLowerCase()}${typeof err.body.revision === 'number' ? ` (revision ${err.body.revision})` : ''}.` : '';
    return `${title} was refused: the rollout changed since this page showed it, so nothing was done.${now} Check the page and try again if it still applies.`;
  }
  if (err instanceof ApiError) return `${title} was refused: ${err.message}`;
  if (err instanceof Unreachable) return `${title} was not sent: the Oleada API does not answer.`;
  return `${title} failed: ${err instanceof Error ? err.message : String(err)}`;
}

export type Commands = ReturnType<typeof useCommands>;
