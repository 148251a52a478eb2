/**
 * The engine's front door: creates rollouts (validated, resolved, stored, then woken) and stores commands for the
 * next tick. The API and the CLI call it through the RolloutService interface; runtime.ts builds it.
 */
import { createHash } from 'node:crypto';
import { ActiveRolloutExists, CommandNotApplicable, CommandTargetUnknown, IdempotencyMismatch, RolloutNotFound, SpecInvalid } from '../errors.ts';
import { commandTickId, scheduledTickId } from '../queue/catalog.ts';
import type { JobQueues } from '../queue/queues.ts';
import { judgedRangeProblems } from '../analysis/judged-range.ts';
import { parseRolloutSpec, type SpecError } from '../spec/parse.ts';
import { renderPlanQueries, resolvePlan, shortestDurationMs, type ClusterInfo, type ClusterQueries, type Plan } from '../spec/plan.ts';
import type { CommandArgs, CommandRecord, CommandType } from '../model/commands.ts';
import type { RolloutRecord } from '../model/rollout.ts';
import { insertCommand } from '../store/commands.ts';
import type { Pool } from '../store/pool.ts';
import { ActiveRolloutExistsError, findActiveByApp, findByIdempotencyKey, getRollout, IdempotencyKeyTakenError, insertRollout } from '../store/rollouts.ts';
import { commandProblem } from './commands.ts';
import { revisionStale } from './preconditions.ts';
import type { RolloutSpec } from '../spec/schema.ts';
import { allowListAdvice, urlAllowed } from '../model/url-allow-list.ts';
import { redactUrl } from '../redact.ts';
import { initialState, isTerminal } from '../model/state.ts';

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
  /** Store the command only while the rollout is at this revision (its version); else RevisionStale. */
  expectedRevision?: number;
}

/**
 * What the API and the CLI may ask of the engine. Failures are domain errors (src/errors.ts): SpecInvalid,
 * IdempotencyMismatch, ActiveRolloutExists, RolloutNotFound, CommandNotApplicable, CommandTargetUnknown and
 * RevisionStale (a command's expectedRevision is no longer current).
 */
export interface RolloutService {
  plan(input: unknown): PlanResult;
  create(request: CreateRequest): Promise<CreateResult>;
  command(request: CommandRequest): Promise<CommandRecord>;
}

export interface RolloutServiceDeps {
  pool: Pool;
  queues: JobQueues;
  /** The clusters a new rollout may use, as the clusters file says right now. */
  clusters: () => ClusterInfo[];
  /** How long `supersede` waits for the app's active rollout to finish rolling back. */
  supersedeTimeoutMs?: number;
  /** The URL prefixes hooks may call (OLEADA_WEBHOOK_ALLOWED_URLS); absent: none. */
  allowedUrls?: readonly string[];
  /** Whether OLEADA_HOOK_SIGNING_SECRET is set: without it, hook calls could not be signed. */
  hookSigningSecret?: boolean;
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

/**
 * What the server's configuration says of the file's hooks: a URL outside OLEADA_WEBHOOK_ALLOWED_URLS (named by its
 * path, with the setting the administrator must change), or no signing secret. The tick checks the URL again before
 * each call, as the list may shrink while a rollout runs.
 */
function hookProblems(hooks: RolloutSpec['hooks'], deps: Pick<RolloutServiceDeps, 'allowedUrls' | 'hookSigningSecret'>): SpecError[] {
  if (!hooks || hooks.length === 0) return [];
  const allowed = deps.allowedUrls ?? [];
  const errors: SpecError[] = hooks.flatMap((hook, index) =>
    urlAllowed(hook.url, allowed) ? [] : [{ path: `/hooks/${index}/url`, message: `${redactUrl(hook.url)} may not be called: ${allowListAdvice(allowed)}` }],
  );
  if (!deps.hookSigningSecret) {
    errors.push({ path: '/hooks', message: 'cannot be called by this server: its calls are signed, and the administrator must set OLEADA_HOOK_SIGNING_SECRET' });
  }
  return errors;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRolloutService(deps: RolloutServiceDeps): RolloutService {
  function resolve(input: unknown, clusters: ClusterInfo[]): (PlanResult & { ok: false }) | { ok: true; spec: RolloutSpec; plan: Plan } {
    const parsed = parseRolloutSpec(input);
    if (!parsed.ok) return { ok: false, errors: parsed.errors };
    const hookErrors = hookProblems(parsed.spec.hooks, deps);
    if (hookErrors.length > 0) return { ok: false, errors: hookErrors };
    const resolved = resolvePlan(parsed.spec, clusters);
    if (!resolved.ok) return { ok: false, errors: resolved.errors };
    const judgeErrors = judgedRangeProblems(resolved.plan.analysis);
    if (judgeErrors.length > 0) return { ok: false, errors: judgeErrors };
    return { ok: true, spec: parsed.spec, plan: resolved.plan };
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
        throw new ActiveRolloutExists(`rollout ${active.id} of ${app} is still rolling back; try again when it has ended`, active.id);
      }
      await wait(100);
    }
  }

  async function replay(actor: string, key: string, hash: string): Promise<CreateResult | undefined> {
    const existing = await findByIdempotencyKey(deps.pool, actor, key);
    if (!existing) return undefined;
    if (existing.requestHash !== hash) {
      throw new IdempotencyMismatch(
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
    const result = resolve(request.input, deps.clusters());
    if (!result.ok) throw new SpecInvalid(result.errors);
    const { plan } = result;
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
        throw new ActiveRolloutExists(
          `${plan.app} already has an active rollout${active ? ` (${active.id}, ${active.phase})` : ''}; wait for it, abort it, or create with ?supersede=true`,
          active?.id ?? null,
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
    if (!rollout) throw new RolloutNotFound(request.rolloutId);
    const expected = request.expectedRevision;
    if (expected !== undefined && rollout.version !== expected) {
      throw revisionStale(rollout.id, { phase: rollout.phase, revision: rollout.version }, expected);
    }
    const problem = commandProblem(rollout.plan, rollout.state, request.type, request.args);
    if (problem) {
      const details = { phase: rollout.phase };
      throw problem.code === 'command_not_applicable'
        ? new CommandNotApplicable(problem.message, details)
        : new CommandTargetUnknown(problem.code, problem.message, details);
    }
    const { expectedRevision, ...fields } = request;
    const stored = await insertCommand(deps.pool, fields, expectedRevision);
    if (!stored) {
      const now = await getRollout(deps.pool, rollout.id);
      if (!now) throw new RolloutNotFound(request.rolloutId);
      throw revisionStale(now.id, { phase: now.phase, revision: now.version }, expected ?? null);
    }
    // Stored first, then the wake-up: if Redis is down the command still applies at the next recovery sweep.
    await deps.queues
      .enqueue('tick', { rolloutId: rollout.id, reason: 'command' }, { jobId: commandTickId(rollout.id, stored.id) })
      .catch(() => {});
    return stored;
  }

  return {
    plan(input) {
      const clusters = deps.clusters();
      const result = resolve(input, clusters);
      if (!result.ok) return result;
      const preview = { plan: result.plan, queries: renderPlanQueries(result.plan, clusters), shortestDurationMs: shortestDurationMs(result.plan) };
      return { ok: true, preview };
    },
    create,
    command,
  };
}
