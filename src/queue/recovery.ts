import type { Logger } from '../log.ts';
import { runPeriodically } from '../periodic.ts';
import { rolloutsActive } from '../metrics.ts';
import { ACTIVE_PHASES } from '../model/state.ts';
import type { Pool } from '../store/pool.ts';
import { countByPhase, listActiveRollouts } from '../store/rollouts.ts';
import { listUnclaimedPending } from '../store/deliveries.ts';
import { commandTickId, deliverJobId, scheduledTickId, type JobPayload } from './catalog.ts';
import type { JobQueues } from './queues.ts';

/**
 * Makes sure the queue holds the next tick of every active rollout, as PostgreSQL says it should be. Redis is only a
 * cache of intentions: after a FLUSHALL, a killed worker whose job failed for good, or a crash between commit and
 * enqueue, this puts each lost job back. Returns how many jobs it re-enqueued.
 */
export async function recoverLostTicks(pool: Pool, queues: JobQueues): Promise<number> {
  const rollouts = await listActiveRollouts(pool);
  let recovered = 0;
  await Promise.all(
    rollouts.map(async (rollout) => {
      const wanted: { jobId: string; payload: JobPayload<'tick'>; delay: number }[] = [];
      if (rollout.pendingCommandId !== null) {
        wanted.push({
          jobId: commandTickId(rollout.id, rollout.pendingCommandId),
          payload: { rolloutId: rollout.id, reason: 'command' },
          delay: 0,
        });
      }
      if (rollout.nextTickAt !== null) {
        const dueAt = rollout.nextTickAt.getTime();
        wanted.push({
          jobId: scheduledTickId(rollout.id, rollout.version),
          payload: { rolloutId: rollout.id, reason: 'scheduled', dueAt, version: rollout.version },
          delay: Math.max(0, dueAt - Date.now()),
        });
      }
      for (const job of wanted) {
        if (await queues.hasPending('tick', job.jobId)) continue;
        // A finished job with the same id would swallow the add; it is history now, so clear it first.
        await queues.removeFinished('tick', job.jobId);
        await queues.enqueue('tick', job.payload, { delay: job.delay, jobId: job.jobId });
        recovered += 1;
      }
    }),
  );
  return recovered;
}

/**
 * Makes sure the queue holds the next try of every pending notification delivery that nobody is working on: after a
 * Redis flush, a crash between the commit of an event and the enqueue of its deliveries, or a sender killed mid-try
 * (once its claim has lapsed). Returns how many tries it re-enqueued.
 */
export async function recoverLostDeliveries(pool: Pool, queues: JobQueues): Promise<number> {
  const pending = await listUnclaimedPending(pool);
  let recovered = 0;
  for (const delivery of pending) {
    const jobId = deliverJobId(delivery.id, delivery.attempts);
    if (await queues.hasPending('deliver', jobId)) continue;
    await queues.removeFinished('deliver', jobId);
    await queues.enqueue(
      'deliver',
      { deliveryId: delivery.id, attempt: delivery.attempts },
      { delay: Math.max(0, delivery.nextAttemptAt.getTime() - Date.now()), jobId },
    );
    recovered += 1;
  }
  return recovered;
}

export async function refreshActiveGauge(pool: Pool): Promise<void> {
  const counts = await countByPhase(pool);
  for (const phase of ACTIVE_PHASES) rolloutsActive.set({ phase }, counts.get(phase) ?? 0);
}

/** Runs recovery at start and then every `intervalMs`, until stopped. */
export function startRecoveryLoop(
  options: { pool: Pool; queues: JobQueues; intervalMs: number; logger: Logger },
): { stop(): Promise<void> } {
  return runPeriodically(
    async () => {
      try {
        const recovered = await recoverLostTicks(options.pool, options.queues);
        if (recovered > 0) options.logger.info({ recovered }, 're-enqueued lost ticks from PostgreSQL');
        const deliveries = await recoverLostDeliveries(options.pool, options.queues);
        if (deliveries > 0) options.logger.info({ deliveries }, 're-enqueued lost notification deliveries from PostgreSQL');
        await refreshActiveGauge(options.pool);
      } catch (err) {
        options.logger.warn({ err }, 'recovery sweep failed; it runs again at the next interval');
      }
    },
    options.intervalMs,
    { atStart: true },
  );
}
