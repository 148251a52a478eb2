/** What a person or a program can ask of a running rollout. */
export type CommandType = 'promote' | 'approve' | 'pause' | 'resume' | 'abort';

export interface CommandArgs {
  cluster?: string;
  wave?: string;
  full?: boolean;
}

/** A stored command and, once the engine has looked at it, what became of it. */
export interface CommandRecord {
  id: number;
  rolloutId: string;
  type: CommandType;
  args: CommandArgs;
  reason: string | null;
  actor: string;
  createdAt: Date;
  appliedAt: Date | null;
  outcome: 'applied' | 'rejected' | null;
  outcomeMessage: string | null;
}

export interface NewCommand {
  rolloutId: string;
  type: CommandType;
  args: CommandArgs;
  reason: string | null;
  actor: string;
}

/** The engine's answer to one command, recorded in the same transaction as the state it led to. */
export interface CommandOutcome {
  id: number;
  outcome: 'applied' | 'rejected';
  message: string;
}
