import { createHash } from 'node:crypto';
import { DomainError } from '../errors.ts';
import { commandTickId, scheduledTickId } from '../queue/catalog.ts';
import type { JobQueues } from '../queue/queues.ts';
import { parseRolloutSpec } from '../spec/parse.ts';
import { renderPlanQueries, resolvePlan, shortestDurationMs, type ClusterInfo } from '../spec/plan.ts';
import { insertCommand } from '../store/commands.ts';
import type { Pool } from '../store/pool.ts';
import { ActiveRolloutExistsError, findActiveByApp, findByIdempotencyKey, getRollout, IdempotencyKeyTakenError, insertRollout } from '../store/rollouts.ts';
import type { RolloutRecord } from '../model/rollout.ts';
import { commandProblem } from './commands.ts';
import { RevisionStale } from './preconditions.ts';
import type { RolloutSpec } from '../spec/schema.ts';
import type { CommandRequest, CreateRequest, CreateResult, PlanPreview, PlanResult, RolloutService } from './service.ts';
import { initialState, isTerminal } from '../model/state.ts';

export interface RolloutServiceDeps {
  pool: Pool;
  queues: JobQueues;
  /** The clusters a new rollout may use, as the clusters file says right now. */
  clusters: () => ClusterInfo[];
  /** How long `supersede` waits for the app's active rollout to finish rolling back. */
  supersedeTimeoutMs?: number;
}

/** A stable hash of a parsed body: the same object in another key order or as YAML hashes the same. */
export function canonicalHash(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((key) => [key, canonical((v as Record<string, unknown>)[key])]));
    }
    return v;
  };
  // JSON.stringify(undefined) is undefined: an absent body hashes as null.
  return createHash('sha256').update(JSON.stringify(canonical(value)) ?? 'null').digest('hex');
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRolloutService(deps: RolloutServiceDeps): RolloutService {
  function resolve(input: unknown): (PlanResult & { ok: false }) | { ok: true; spec: RolloutSpec; preview: PlanPreview } {
    const parsed = parseRolloutSpec(input);
    if (!parsed.ok) return { ok: false, errors: parsed.errors };
    const clusters = deps.clusters();
    const resolved = resolvePlan(parsed.spec, clusters);
    if (!resolved.ok) return { ok: false, errors: resolved.errors };
    return {
      ok: true,
      spec: parsed.spec,
      preview: {
        plan: resolved.plan,
        queries: renderPlanQueries(resolved.plan, clusters),
        shortestDurationMs: shortestDurationMs(resolved.plan),
      },
    };
  }

  async function supersede(app: string, actor: string): Promise<void> {
    const active = await findActiveByApp(deps.pool, app);
    if (!active) return;
    if (active.phase !== 'rolling_back') {
      await command({ rolloutId: active.id, type: 'abort', args: {}, reason: 'superseded by a new rollout', actor });
    }
    const deadline = Date.now() + (deps.supersedeTimeoutMs ?? 120_000);
    for (;;) {
      const current = await getRollout(deps.pool, active.id);
      if (!current || isTerminal(current.phase)) return;
      if (Date.now() > deadline) {
        throw new DomainError(409, 'active_rollout_exists', `rollout ${active.id} of ${app} is still rolling back; try again when it has ended`, {
          activeRolloutId: active.id,
        });
      }
      await wait(100);
    }
  }

  async function replay(actor: string, key: string, hash: string): Promise<CreateResult | undefined> {
    const existing = await findByIdempotencyKey(deps.pool, actor, key);
    if (!existing) return undefined;
    if (existing.requestHash !== hash) {
      throw new DomainError(
        422,
        'idempotency_mismatch',
        `Idempotency-Key "${key}" was already used with a different rollout (${existing.id}); use a new key for a new rollout`,
        { rolloutId: existing.id },
      );
    }
    return { rollout: existing, created: false };
  }

  async function create(request: CreateRequest): Promise<CreateResult> {
    const hash = canonicalHash(request.input);
    if (request.idempotencyKey) {
      const replayed = await replay(request.actor, request.idempotencyKey, hash);
      if (replayed) return replayed;
    }
    const result = resolve(request.input);
    if (!result.ok) {
      throw new DomainError(422, 'spec_invalid', `the rollout is invalid: ${result.errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`, {
        errors: result.errors,
      });
    }
    const { plan } = result.preview;
    if (request.supersede) await supersede(plan.app, request.actor);
    let rollout: RolloutRecord;
    try {
      rollout = await insertRollout(deps.pool, {
        app: plan.app,
        spec: result.spec,
        plan,
        state: initialState(plan),
        createdBy: request.actor,
        idempotencyKey: request.idempotencyKey ?? null,
        requestHash: hash,
      });
    } catch (err) {
      if (err instanceof ActiveRolloutExistsError) {
        const active = await findActiveByApp(deps.pool, plan.app);
        throw new DomainError(
          409,
          'active_rollout_exists',
          `${plan.app} already has an active rollout${active ? ` (${active.id}, ${active.phase})` : ''}; wait for it, abort it, or create with ?supersede=true`,
          { activeRolloutId: active?.id ?? null },
        );
      }
      if (err instanceof IdempotencyKeyTakenError && request.idempotencyKey) {
        // Another request with the same key won the race; answer as its replay.
        const replayed = await replay(request.actor, request.idempotencyKey, hash);
        if (replayed) return replayed;
      }
      throw err;
    }
    await deps.queues.enqueue('tick', { rolloutId: rollout.id, reason: 'start' }, { jobId: scheduledTickId(rollout.id, rollout.version) });
    return { rollout, created: true };
  }

  async function command(request: CommandRequest) {
    const rollout = await getRollout(deps.pool, request.rolloutId);
    if (!rollout) throw new DomainError(404, 'rollout_not_found', `there is no rollout ${request.rolloutId}`);
    const expected = request.expectedRevision;
    if (expected !== undefined && rollout.version !== expected) {
      throw new RevisionStale(rollout.id, { phase: rollout.phase, revision: rollout.version }, expected);
    }
    const problem = commandProblem(rollout.plan, rollout.state, request.type, request.args);
    if (problem) {
      throw new DomainError(problem.code === 'command_not_applicable' ? 409 : 422, problem.code, problem.message, {
        phase: rollout.phase,
      });
    }
    const { expectedRevision, ...fields } = request;
    const stored = await insertCommand(deps.pool, fields, expectedRevision);
    if (!stored) {
      const now = await getRollout(deps.pool, rollout.id);
      if (!now) throw new DomainError(404, 'rollout_not_found', `there is no rollout ${request.rolloutId}`);
      throw new RevisionStale(now.id, { phase: now.phase, revision: now.version }, expected ?? null);
    }
    // Stored first, then the wake-up: if Redis is down the command still applies at the next recovery sweep.
    await deps.queues
      .enqueue('tick', { rolloutId: rollout.id, reason: 'command' }, { jobId: commandTickId(rollout.id, stored.id) })
      .catch(() => {});
    return stored;
  }

  return {
    plan(input) {
      const result = resolve(input);
      return result.ok ? { ok: true, preview: result.preview } : result;
    },
    create,
    command,
  };
}
