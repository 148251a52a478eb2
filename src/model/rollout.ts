import type { Plan } from '../spec/plan.ts';
import type { RolloutSpec } from '../spec/schema.ts';
import type { Phase, RolloutState } from './state.ts';

/** A rollout as the system of record holds it: the file as checked, its resolved plan, and the engine's state. */
export interface RolloutRecord {
  id: string;
  app: string;
  spec: RolloutSpec;
  plan: Plan;
  state: RolloutState;
  phase: Phase;
  version: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  createdBy: string;
  reason: string | null;
  nextTickAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}
