/**
 * What the API and the CLI may ask of the engine. The implementation (createRolloutService) is wired in runtime.ts.
 */
import type { CommandArgs, CommandRecord, CommandType } from '../model/commands.ts';
import type { RolloutRecord } from '../model/rollout.ts';
import type { ClusterQueries, Plan } from '../spec/plan.ts';
import type { SpecError } from '../spec/parse.ts';

export interface PlanPreview {
  plan: Plan;
  /** Rendered analysis queries per cluster, with each metric's thresholds. */
  queries: ClusterQueries[];
  shortestDurationMs: number;
}

export type PlanResult = { ok: true; preview: PlanPreview } | { ok: false; errors: SpecError[] };

export interface CreateRequest {
  /** The rollout file, already parsed from JSON or YAML into a value (not yet validated). */
  input: unknown;
  actor: string;
  idempotencyKey?: string;
  /** Abort the app's active rollout first instead of refusing with 409. */
  supersede?: boolean;
}

export interface CreateResult {
  rollout: RolloutRecord;
  /** False when an Idempotency-Key replay returned an existing rollout. */
  created: boolean;
}

export interface CommandRequest {
  rolloutId: string;
  type: CommandType;
  args: CommandArgs;
  reason: string | null;
  actor: string;
  /** Store the command only while the rollout is at this revision (its version); else RevisionStale (412). */
  expectedRevision?: number;
}

/**
 * Errors are DomainErrors (src/errors.ts) with these codes:
 * - spec_invalid (422, details.errors: SpecError[]) for a rollout file that fails validation or plan resolution;
 * - idempotency_mismatch (422) when a key is reused with a different body;
 * - active_rollout_exists (409, details.activeRolloutId) when the app already has an active rollout;
 * - rollout_not_found (404);
 * - command_not_applicable (409) when the command does not fit the rollout's phase, with the reason;
 * - cluster_not_in_rollout / wave_not_in_rollout (422);
 * - revision_stale (412, RevisionStale: details.phase and details.revision) when expectedRevision is not current.
 */
export interface RolloutService {
  plan(input: unknown): PlanResult;
  create(request: CreateRequest): Promise<CreateResult>;
  command(request: CommandRequest): Promise<CommandRecord>;
}
