/** Commands from people: each is checked against the rollout as it is now, then applied or rejected with a reason. */
import { resumeTo } from '../../model/state.ts';
import { assertNever } from '../../errors.ts';
import { commandProblem } from '../commands.ts';
import type { PendingCommand } from '../observations.ts';
import { enterPromoting, nextStep } from './cluster.ts';
import type { Draft } from './draft.ts';
import { beginRollback } from './failure.ts';
import { resumeFromPause, setPhase } from './phases.ts';

export function reject(draft: Draft, command: PendingCommand, message: string): void {
  draft.commandOutcomes.push({ id: command.id, outcome: 'rejected', message });
  draft.event('command.rejected', `${command.type} by ${command.actor} rejected: ${message}`, {
    actor: command.actor,
    wave: null,
    data: { command: command.id, type: command.type },
  });
}

function accept(draft: Draft, command: PendingCommand, message: string): void {
  draft.commandOutcomes.push({ id: command.id, outcome: 'applied', message });
  draft.event('command.applied', message, {
    actor: command.actor,
    wave: null,
    data: { command: command.id, type: command.type, args: command.args, reason: command.reason },
  });
}

export function applyCommand(draft: Draft, command: PendingCommand): void {
  const s = draft.state;
  const problem = commandProblem(draft.plan, s, command.type, command.args);
  if (problem) return reject(draft, command, problem.message);
  const because = command.reason ? `: ${command.reason}` : '';
  draft.wake(draft.now);

  switch (command.type) {
    case 'promote': {
      const targets = Object.values(s.clusters).filter(
        (c) => c.phase === 'canary' && (command.args.cluster === undefined || c.name === command.args.cluster),
      );
      for (const cluster of targets) {
        if (command.args.full) {
          enterPromoting(draft, cluster, `promoted fully by ${command.actor}${because}`);
        } else {
          nextStep(draft, cluster, `step ${cluster.step + 1} skipped by ${command.actor}${because}`);
        }
      }
      if (s.phase === 'paused') resumeFromPause(draft, command.actor);
      accept(draft, command, `${command.actor} promoted ${targets.map((c) => c.name).join(', ')}${command.args.full ? ' fully' : ''}${because}`);
      return;
    }
    case 'approve': {
      const wave = s.waves[s.waveIndex]!;
      wave.approvedBy = command.actor;
      accept(draft, command, `${command.actor} approved wave ${wave.name}${because}`);
      return;
    }
    case 'pause': {
      s.paused = {
        kind: 'user',
        actor: command.actor,
        reason: command.reason ?? 'paused by a person',
        at: draft.now,
        resumeTo: resumeTo(s.phase),
      };
      accept(draft, command, `${command.actor} paused the rollout${because}`);
      setPhase(draft, 'paused', `paused by ${command.actor}${because}`, command.actor);
      return;
    }
    case 'resume': {
      accept(draft, command, `${command.actor} resumed the rollout${because}`);
      resumeFromPause(draft, command.actor);
      return;
    }
    case 'abort': {
      accept(draft, command, `${command.actor} aborted the rollout${because}`);
      beginRollback(draft, {
        cause: `aborted by ${command.actor}${because}`,
        cluster: null,
        endPhase: 'aborted',
        actor: command.actor,
      });
      return;
    }
    default:
      return assertNever(command.type, 'command');
  }
}
