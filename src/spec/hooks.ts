import { Type, type Static } from 'typebox';
import { parseDuration, formatDuration } from './duration.ts';
import { toPointer, type SpecError } from './errors.ts';
import { DnsLabel, Duration } from './names.ts';

/*
 * Webhook gates (`hooks:` in the rollout file), with Flagger's meanings, called per cluster. decide says when each is
 * due (src/engine/decide/hooks.ts); the tick makes the call (src/engine/hook-call.ts). docs/rollout-spec.md, "Hooks".
 */

export const HOOK_TYPES = [
  /** Asked before the canary is created; the cluster holds until it answers 2xx. */
  'confirm-rollout',
  /** Called before the canary takes traffic; failures past failureLimit fail the cluster. */
  'pre-rollout',
  /** Asked before each weight increase; the cluster holds until it answers 2xx. */
  'confirm-traffic-increase',
  /** Called at every analysis interval while the canary takes traffic; failures past failureLimit fail the cluster. */
  'rollout',
  /** Asked before promotion; the cluster holds until it answers 2xx. */
  'confirm-promotion',
  /** Asked at every interval while the cluster is in canary: a 2xx rolls the cluster back. */
  'rollback',
  /** Called once after the cluster is promoted or rolled back; a failure is only recorded. */
  'post-rollout',
] as const;

export type HookType = (typeof HOOK_TYPES)[number];

/** Hook types whose failures count toward `failureLimit`. */
export const COUNTED_HOOK_TYPES: readonly HookType[] = ['pre-rollout', 'rollout'];

/** Hook types that hold the cluster until they answer 2xx. */
export function isConfirmHook(type: HookType): boolean {
  return type === 'confirm-rollout' || type === 'confirm-traffic-increase' || type === 'confirm-promotion';
}

export const DEFAULT_HOOK_TIMEOUT = '10s';
/** A call holds its tick (and so the rollout's commands) this long at most. */
export const MAX_HOOK_TIMEOUT_MS = 60_000;
/** Failed calls a counted hook (pre-rollout, rollout) tolerates; the next one fails the cluster: three in all. */
export const DEFAULT_HOOK_FAILURE_LIMIT = 2;

export const HookSchema = Type.Object(
  {
    /** Shown in events and in the call's body; unique within the rollout. */
    name: DnsLabel('a hook name'),
    type: Type.Union(
      HOOK_TYPES.map((type) => Type.Literal(type)),
      { 'x-expected': `a hook type: ${HOOK_TYPES.join(', ')}` },
    ),
    /** Called with a signed JSON POST; it must start with a prefix of the server's OLEADA_WEBHOOK_ALLOWED_URLS. */
    url: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, 'x-expected': 'an http:// or https:// URL' }),
    /** How long a call may take; no answer within it is a failed call. At most 60s. */
    timeout: Type.Optional(Duration({ default: DEFAULT_HOOK_TIMEOUT, minimumMs: 1 })),
    /** Passed in the call's body as `metadata`, as Flagger does. */
    metadata: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 63 }), Type.String({ maxLength: 1024 }), {
        maxProperties: 50,
        'x-expected': 'strings by name, such as { type: smoke, suite: checkout }',
      }),
    ),
    /** pre-rollout and rollout only: failed calls tolerated; the next one fails the cluster. Default 2. */
    failureLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);

export const HooksSchema = Type.Array(HookSchema, { maxItems: 20, 'x-expected': 'a list of hooks' });

// The union is built from HOOK_TYPES, which TypeBox's Static cannot follow through `map`.
export type HookSpec = Omit<Static<typeof HookSchema>, 'type'> & { type: HookType };

/** A hook as the plan stores it: durations in ms, defaults applied. */
export interface PlanHook {
  name: string;
  type: HookType;
  url: string;
  timeoutMs: number;
  metadata: Record<string, string>;
  /** Present for the counted types only. */
  failureLimit?: number;
}

/** Rules the schema cannot say: unique names, the timeout's maximum, failureLimit only where failures count. */
export function checkHooks(hooks: readonly HookSpec[]): SpecError[] {
  const errors: SpecError[] = [];
  const seen = new Map<string, number>();
  hooks.forEach((hook, index) => {
    const first = seen.get(hook.name);
    if (first === undefined) seen.set(hook.name, index);
    else errors.push({ path: toPointer(['hooks', index, 'name']), message: `hook name "${hook.name}" is already used at /hooks/${first}; hook names must be unique` });
    if (hook.timeout !== undefined) {
      const ms = safeDuration(hook.timeout);
      if (ms !== undefined && ms > MAX_HOOK_TIMEOUT_MS) {
        errors.push({
          path: toPointer(['hooks', index, 'timeout']),
          message: `must be at most ${formatDuration(MAX_HOOK_TIMEOUT_MS)}, got ${hook.timeout}: a call holds the rollout's tick (and its commands) while it waits`,
        });
      }
    }
    if (hook.failureLimit !== undefined && !COUNTED_HOOK_TYPES.includes(hook.type)) {
      errors.push({
        path: toPointer(['hooks', index, 'failureLimit']),
        message: `applies to ${COUNTED_HOOK_TYPES.join(' and ')} hooks only (a ${hook.type} hook ${isConfirmHook(hook.type) ? 'holds until it answers 2xx' : 'never fails the cluster'}): remove it`,
      });
    }
  });
  return errors;
}

function safeDuration(text: string): number | undefined {
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

export function planHooks(hooks: readonly HookSpec[] | undefined): PlanHook[] {
  return (hooks ?? []).map((hook) => ({
    name: hook.name,
    type: hook.type,
    url: hook.url,
    timeoutMs: parseDuration(hook.timeout ?? DEFAULT_HOOK_TIMEOUT),
    metadata: { ...(hook.metadata ?? {}) },
    ...(COUNTED_HOOK_TYPES.includes(hook.type) ? { failureLimit: hook.failureLimit ?? DEFAULT_HOOK_FAILURE_LIMIT } : {}),
  }));
}
