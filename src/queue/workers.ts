import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { toError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { jobs, payloadProblem, type JobName, type JobPayload, type QueueName } from './catalog.ts';
import { closeRedis, createRedis } from './connection.ts';
import { DelayJobError, FinalJobError } from './errors.ts';

export type Handlers = { [N in JobName]: (payload: JobPayload<N>, job: Job) => Promise<void> };

export interface WorkerGroupOptions {
  redisUrl: string;
  prefix: string;
  handlers: Handlers;
  concurrency: number;
  logger: Logger;
  /** How often BullMQ looks for jobs whose worker died; a dead worker's tick is retried after about this long. */
  stalledIntervalMs?: number;
  /** How long a job's lock lives without renewal; renewal happens at half of it. */
  lockDurationMs?: number;
}

/** The workers for every queue in the catalog, with a graceful shutdown. */
export class WorkerGroup {
  private readonly workers: Worker[] = [];
  private readonly connections: ReturnType<typeof createRedis>[] = [];

  constructor(private readonly options: WorkerGroupOptions) {
    const byQueue = new Map<QueueName, JobName[]>();
    for (const [name, definition] of Object.entries(jobs) as [JobName, (typeof jobs)[JobName]][]) {
      byQueue.set(definition.queue, [...(byQueue.get(definition.queue) ?? []), name]);
    }
    for (const queue of byQueue.keys()) {
      const connection = createRedis(options.redisUrl, 'worker');
      this.connections.push(connection);
      const worker = new Worker(queue, (job, token) => this.process(job, token), {
        connection,
        prefix: options.prefix,
        concurrency: options.concurrency,
        stalledInterval: options.stalledIntervalMs ?? 30_000,
        lockDuration: options.lockDurationMs ?? 30_000,
        // Worker-level removeOnComplete must be { count } or { age }: `true` is not accepted here.
        removeOnComplete: { count: 1_000 },
        removeOnFail: { count: 5_000 },
      });
      worker.on('error', (err) => options.logger.warn({ err, queue }, 'worker error'));
      worker.on('failed', (job, err) =>
        options.logger.warn({ err, job: job?.name, id: job?.id, attempts: job?.attemptsMade }, 'job failed'),
      );
      this.workers.push(worker);
    }
  }

  private async process(job: Job, token: string | undefined): Promise<void> {
    const name = job.name as JobName;
    const definition = jobs[name];
    if (!definition) throw new UnrecoverableError(`unknown job name ${job.name}`);
    // Payloads are checked again when dequeued: Redis is shared, and an older or newer Oleada may have written them.
    const problem = payloadProblem(name, job.data);
    if (problem) throw new UnrecoverableError(problem);
    const handler = this.options.handlers[name] as (payload: unknown, job: Job) => Promise<void>;
    try {
      await handler(job.data, job);
    } catch (err) {
      if (err instanceof DelayJobError) {
        await job.moveToDelayed(Date.now() + err.delayMs, token);
        throw new DelayedError();
      }
      if (err instanceof FinalJobError) throw new UnrecoverableError(err.message);
      throw toError(err);
    }
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  /**
   * Stops taking jobs and lets the running ones finish. Jobs still running after `timeoutMs` are released: their lock
   * lapses and another worker picks them up, which is safe because a tick can always be run again.
   */
  async close(timeoutMs: number): Promise<void> {
    const graceful = Promise.all(this.workers.map((worker) => worker.close()));
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
    ]);
    if (timedOut) {
      this.options.logger.warn({ timeoutMs }, 'running jobs did not finish in time; releasing them');
      await Promise.all(this.workers.map((worker) => worker.close(true)));
    }
    await Promise.all(this.connections.map((connection) => closeRedis(connection)));
  }
}
