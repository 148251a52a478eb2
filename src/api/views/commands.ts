import { Type, type Static } from 'typebox';
import type { CommandRecord } from '../../store/commands.ts';
import { Nullable } from './rollout-status.ts';

export const COMMAND_TYPES = ['promote', 'approve', 'pause', 'resume', 'abort'] as const;
export type ApiCommandType = (typeof COMMAND_TYPES)[number];

export const CommandViewSchema = Type.Object({
  id: Type.Integer(),
  rolloutId: Type.String({ format: 'uuid' }),
  type: Type.Enum([...COMMAND_TYPES]),
  args: Type.Object({
    cluster: Type.Optional(Type.String()),
    wave: Type.Optional(Type.String()),
    full: Type.Optional(Type.Boolean()),
  }),
  reason: Nullable(Type.String()),
  actor: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  appliedAt: Nullable(Type.String({ format: 'date-time' })),
  outcome: Nullable(Type.Enum(['applied', 'rejected'])),
  outcomeMessage: Nullable(Type.String()),
  links: Type.Object({ rollout: Type.String() }),
});

export type CommandView = Static<typeof CommandViewSchema>;

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
