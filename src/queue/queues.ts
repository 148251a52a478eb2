import { Queue } from 'bullmq';
import { jobs, payloadProblem, queueNames, type JobName, type JobPayload, type QueueName } from './catalog.ts';
import type { Redis } from './connection.ts';

export interface EnqueueOptions {
  /** Milliseconds to wait before the job may run. */
  delay?: number;
  /** Jobs with the same id are enqueued once: a second add while the first exists is a no-op. */
  jobId?: string;
}

/** The producer side of every queue in the catalog, sharing one Redis connection. */
export class JobQueues {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    connection: Redis,
    readonly prefix: string,
  ) {
    for (const name of queueNames()) {
      this.queues.set(name, new Queue(name, { connection, prefix }));
    }
  }

  queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`no queue named ${name}`);
    return queue;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: EnqueueOptions = {}): Promise<void> {
    const definition = jobs[name];
    const problem = payloadProblem(name, payload);
    if (problem) throw new Error(problem);
    await this.queue(definition.queue).add(name, payload, {
      ...definition.options,
      ...(options.delay !== undefined && { delay: Math.max(0, Math.round(options.delay)) }),
      ...(options.jobId !== undefined && { jobId: options.jobId }),
    });
  }

  /** Whether a job with this id is waiting, delayed or running. */
  async hasPending(name: JobName, jobId: string): Promise<boolean> {
    const state = await this.queue(jobs[name].queue).getJobState(jobId);
    return state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized';
  }

  /** Removes a completed or failed job so that its id can be used again. */
  async removeFinished(name: JobName, jobId: string): Promise<void> {
    const job = await this.queue(jobs[name].queue).getJob(jobId);
    if (job && (await job.isCompleted() || await job.isFailed())) await job.remove();
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
