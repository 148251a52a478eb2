import type { CommandRecord } from '../../model/commands.ts';
import type { CommandView } from '../../model/wire.ts';

export function toCommandView(command: CommandRecord): CommandView {
  return {
    id: command.id,
    rolloutId: command.rolloutId,
    type: command.type,
    args: command.args ?? {},
    reason: command.reason,
    actor: command.actor,
    createdAt: command.createdAt.toISOString(),
    appliedAt: command.appliedAt ? command.appliedAt.toISOString() : null,
    outcome: command.outcome,
    outcomeMessage: command.outcomeMessage,
    links: { rollout: `/api/v1/rollouts/${command.rolloutId}` },
  };
}
