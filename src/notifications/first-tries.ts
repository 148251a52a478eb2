/**
 * The delivery thread: first tries of notification deliveries, made apart from the ticks.
 *
 * Why a thread. A delivery is written by a tick's statement, and its first try used to be made by the same process
 * once that statement's answer came back: while 100 rollouts tick together, the answer, the claim and the send each
 * waited for the event loop to come round to them (the notify benchmark, docs/performance.md). The thread has an event
 * loop, a heap (so a garbage collection of the ticks' heap does not stop it) and PostgreSQL connections of its own. It
 * LISTENs on `oleada_delivery`, which a trigger announces each committed delivery on (migration 0009; PostgreSQL sends
 * a notification only at commit), and makes the first try at once: claim, send, record. What the thread cannot do
 * itself, it hands to this side: prom-client's counts (the registry lives here) and the job of a later try (the queues
 * live here). Nothing else changes: the tick still enqueues each delivery's job as the backup (the claim lets only one
 * of the two send), and the recovery sweep still re-enqueues what nobody holds, so a thread that is down, restarting or
 * not yet listening only makes first tries slower, never lost.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import type { DeliveryMetrics, FirstTryStage } from './deliver.ts';
import type { Notifications, NotificationsSource } from './file.ts';

/** What the thread is started with (structured-cloned: plain data only). */
export interface ThreadInit {
  databaseUrl: string;
  /** Connections for the tries' records and Slack's reads; the claims and the listening connection have 3 more. */
  poolSize: number;
  logLevel: string;
  timeoutMs: number;
  claimMs: number;
  schedule: number[];
  publicUrl: string;
  slack: { token: string | undefined; apiUrl: string };
  notifications: Notifications;
}

/** Messages from this side to the thread. */
export type ToThread = { type: 'notifications'; value: Notifications } | { type: 'stop' };

/** Messages from the thread. */
export type FromThread =
  | { type: 'ready' }
  | { type: 'enqueue'; deliveryId: string; attempt: number; at: number }
  | { type: 'tried'; channel: string; status: 'delivered' | 'retrying' | 'failed' }
  | { type: 'firstTry'; stage: FirstTryStage; seconds: number };

export interface FirstTriesOptions {
  init: Omit<ThreadInit, 'notifications'>;
  /** The file as this process reloads it; the thread is sent every new version. */
  notifications: NotificationsSource;
  enqueueTry(deliveryId: string, attempt: number, at: Date): Promise<void>;
  metrics: DeliveryMetrics;
  logger: Logger;
  /** How long a start may take before it counts as failed (loading the thread's modules included). */
  startTimeoutMs?: number;
  /** How long stop waits for the tries in flight before ending the thread. */
  stopTimeoutMs: number;
}

export interface FirstTries {
  stop(): Promise<void>;
}

/** A crashed thread is started again after this long; meanwhile the queued jobs make the first tries. */
const RESTART_DELAY_MS = 1_000;

function spawn(init: ThreadInit): Worker {
  const here = import.meta.url;
  // The thread keeps little in memory: a small young generation saves about 13 MB of the process's RSS.
  const options = { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 4 } };
  if (here.endsWith('.js')) return new Worker(new URL('./first-try-thread.js', here), options);
  // Running from the TypeScript sources (tsx, or vitest): ts-thread.mjs registers tsx in the thread first.
  return new Worker(new URL('./ts-thread.mjs', here), { ...options, argv: [new URL('./first-try-thread.ts', here).href] });
}

/** Starts the delivery thread and resolves once it listens. */
export async function startFirstTries(options: FirstTriesOptions): Promise<FirstTries> {
  const { logger } = options;
  let worker: Worker;
  /** Until the current thread's exit (it may have crashed and wait for its restart). */
  let running = false;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  // Every reload reaches the thread before any delivery routed by it can be announced: the message is posted when the
  // reload is accepted, ahead of the tick that uses it, and the thread reads the channel only after its claim's round
  // trip, by when the message has been handled.
  const unsubscribe = options.notifications.onChange((value) => worker.postMessage({ type: 'notifications', value } satisfies ToThread));

  const onMessage = (message: FromThread) => {
    switch (message.type) {
      case 'ready':
        return;
      case 'enqueue':
        // Lost if this fails: the delivery is pending and unclaimed, so the recovery sweep enqueues it.
        options.enqueueTry(message.deliveryId, message.attempt, new Date(message.at)).catch((err: unknown) =>
          logger.warn({ err, delivery: message.deliveryId }, 'could not enqueue the next try of a delivery; the recovery sweep will'),
        );
        return;
      case 'tried':
        options.metrics.tried(message.channel, message.status);
        return;
      case 'firstTry':
        options.metrics.firstTry(message.stage, message.seconds);
        return;
    }
  };

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      worker = spawn({ ...options.init, notifications: options.notifications.current() });
      running = true;
      let ready = false;
      const timer = setTimeout(() => {
        reject(new Error(`the delivery thread did not start listening within ${options.startTimeoutMs ?? 60_000} ms`));
        void worker.terminate();
      }, options.startTimeoutMs ?? 60_000);
      worker.on('message', (message: FromThread) => {
        if (message.type === 'ready' && !ready) {
          ready = true;
          clearTimeout(timer);
          resolve();
        }
        onMessage(message);
      });
      worker.on('error', (err) => {
        if (!ready) return reject(err);
        logger.error({ err }, 'the delivery thread failed; first tries go through the queue until it is back');
      });
      worker.on('exit', (code) => {
        running = false;
        clearTimeout(timer);
        if (!ready) return reject(new Error(`the delivery thread exited with code ${code} before it listened`));
        if (stopping) return;
        restartTimer = setTimeout(() => {
          start().catch((err: unknown) => logger.error({ err }, 'the delivery thread did not start again; first tries go through the queue'));
        }, RESTART_DELAY_MS);
      });
    });

  try {
    await start();
  } catch (err) {
    unsubscribe();
    throw err;
  }
  return {
    async stop() {
      stopping = true;
      unsubscribe();
      clearTimeout(restartTimer);
      if (!running) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'stop' } satisfies ToThread);
      const timer = setTimeout(() => void worker.terminate(), options.stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
