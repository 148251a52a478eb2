/** One line of a rollout's audit trail and timeline. */
export interface RolloutEvent {
  seq: number;
  time: Date;
  type: string;
  wave: string | null;
  cluster: string | null;
  actor: string;
  message: string;
  data: Record<string, unknown>;
}

/** An event as the engine decides it; the store stamps the time when none is given. */
export type NewEvent = Omit<RolloutEvent, 'time'> & { time?: Date };
