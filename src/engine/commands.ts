import { assertNever } from '../errors.ts';
import type { Plan } from '../spec/plan.ts';
import type { CommandArgs, CommandType } from '../model/commands.ts';
import { isTerminal, type RolloutState } from '../model/state.ts';

export interface CommandProblem {
  code: 'command_not_applicable' | 'cluster_not_in_rollout' | 'wave_not_in_rollout';
  message: string;
}

/**
 * Whether a command fits the rollout as it is now, and if not, why, in words that say what to do instead. The API asks
 * before it stores a command (to answer 409 at once); the engine asks again when it applies it, because the rollout
 * may have moved on in between.
 */
export function commandProblem(plan: Plan, state: RolloutState, type: CommandType, args: CommandArgs): CommandProblem | null {
  const notApplicable = (message: string): CommandProblem => ({ code: 'command_not_applicable', message });
  if (isTerminal(state.phase)) return notApplicable(`the rollout has already ended (${state.phase})`);
  const clusterNames = plan.waves.flatMap((wave) => wave.clusters);
  if (args.cluster !== undefined && !clusterNames.includes(args.cluster)) {
    return { code: 'cluster_not_in_rollout', message: `cluster ${args.cluster} is not part of this rollout (clusters: ${clusterNames.join(', ')})` };
  }
  if (args.wave !== undefined && !plan.waves.some((wave) => wave.name === args.wave)) {
    return {
      code: 'wave_not_in_rollout',
      message: `wave ${args.wave} is not part of this rollout (waves: ${plan.waves.map((wave) => wave.name).join(', ')})`,
    };
  }
  const currentWave = plan.waves[state.waveIndex]?.name;
  switch (type) {
    case 'promote': {
      if (state.phase === 'rolling_back') return notApplicable('the rollout is rolling back; there is nothing to promote');
      if (state.phase === 'awaiting_approval') return notApplicable(`wave ${currentWave} waits for approval: use approve, not promote`);
      const canaries = Object.values(state.clusters).filter((c) => c.phase === 'canary');
      if (args.cluster !== undefined && !canaries.some((c) => c.name === args.cluster)) {
        const phase = state.clusters[args.cluster]?.phase ?? 'pending';
        return notApplicable(`cluster ${args.cluster} is not in a canary step (it is ${phase})`);
      }
      if (canaries.length === 0) return notApplicable('no cluster is in a canary step right now; wait for the next wave to start');
      return null;
    }
    case 'approve':
      if (state.phase !== 'awaiting_approval') {
        return notApplicable(`no wave is waiting for approval (the rollout is ${state.phase})`);
      }
      if (args.wave !== undefined && args.wave !== currentWave) {
        return notApplicable(`wave ${args.wave} is not the one waiting for approval; ${currentWave} is`);
      }
      return null;
    case 'pause':
      if (state.phase === 'paused') return notApplicable('the rollout is already paused; use resume to go on');
      if (state.phase === 'rolling_back') return notApplicable('the rollout is rolling back and cannot be paused');
      return null;
    case 'resume':
      if (state.phase !== 'paused') return notApplicable(`the rollout is not paused (it is ${state.phase})`);
      return null;
    case 'abort':
      if (state.phase === 'rolling_back') return notApplicable('the rollout is already rolling back');
      return null;
    default:
      return assertNever(type, 'command');
  }
}
