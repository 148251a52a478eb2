import { Type, type Static, type TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import type { JobsOptions } from 'bullmq';

/** One kind of job: the queue it goes to, the payload schema checked on enqueue and again on dequeue, its options. */
export interface JobDefinition<S extends TSchema = TSchema> {
  queue: string;
  payload: S;
  options: JobsOptions;
}

function define<S extends TSchema>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

/**
 * Every job Oleada runs. A tick carries only the rollout id: the state lives in PostgreSQL, so a lost or duplicated
 * job costs at most a wasted tick, never a wrong one.
 */
export const jobs = {
  tick: define({
    queue: 'ticks',
    payload: Type.Object(
      {
        rolloutId: Type.String({ format: 'uuid' }),
        /** When the tick was meant to run (epoch ms), for lateness; absent for wake-ups caused by a command. */
        dueAt: Type.Optional(Type.Number()),
        /** The state version that scheduled this tick: a later version makes it stale. */
        version: Type.Optional(Type.Integer({ minimum: 0 })),
        reason: Type.Union([Type.Literal('scheduled'), Type.Literal('command'), Type.Literal('recovery'), Type.Literal('start')]),
      },
      { additionalProperties: false },
    ),
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 250 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 5_000 },
    },
  }),
  /**
   * One try of one notification delivery. Its retries are the outbox's, kept in PostgreSQL (so a Redis flush loses
   * none and the schedule survives it); the job's own attempts only cover a failure to reach PostgreSQL.
   */
  deliver: define({
    queue: 'deliveries',
    payload: Type.Object(
      {
        deliveryId: Type.String({ pattern: '^msg_[0-9a-f]{32}$' }),
        /** How many tries were made before this one: a job for an older try finds the delivery moved on. */
        attempt: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 5_000 },
    },
  }),
} as const;

export type JobName = keyof typeof jobs;
export type JobPayload<N extends JobName> = Static<(typeof jobs)[N]['payload']>;
export type QueueName = (typeof jobs)[JobName]['queue'];

/**
 * Each payload schema compiled once: every tick is checked twice (on enqueue and when dequeued), and the interpreted
 * Value.Check allocated a few KB per check in the scale benchmark's profile; a compiled check allocates nothing.
 */
const validators = new Map<string, Validator>(Object.entries(jobs).map(([name, definition]) => [name, Compile(definition.payload)]));

/** Why `payload` is not a valid payload of the `name` job, or undefined when it is. */
export function payloadProblem(name: JobName, payload: unknown): string | undefined {
  const validator = validators.get(name);
  if (!validator) return `unknown job name ${name}`;
  if (validator.Check(payload)) return undefined;
  const [first] = validator.Errors(payload);
  return `invalid ${name} payload at ${first?.instancePath || '/'}: ${first?.message}`;
}

export function queueNames(): QueueName[] {
  return [...new Set(Object.values(jobs).map((job) => job.queue))];
}

/**
 * Tick job ids. A rollout has one scheduled tick per state version, so the recovery sweep can tell whether the tick that
 * PostgreSQL expects is still queued; a command's wake-up is named after the command. BullMQ ids may not contain ':'.
 */
export function scheduledTickId(rolloutId: string, version: number): string {
  return `${rolloutId}-v${version}`;
}

export function commandTickId(rolloutId: string, commandId: number): string {
  return `${rolloutId}-c${commandId}`;
}

/** A delivery's job for its n-th try (counting from 0): one id per try, so the recovery sweep can tell if it is queued. */
export function deliverJobId(deliveryId: string, attempt: number): string {
  return `${deliveryId}-a${attempt}`;
}
