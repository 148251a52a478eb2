/**
 * The delivery thread's entry (started by first-tries.ts, which says why it exists). It listens for committed
 * deliveries on its own connection and makes each one's first try with runDelivery, the same claim, send and record
 * as the queued job's, on its own pool. A try it cannot finish (the thread stopped, the process killed) keeps its
 * claim until the claim lapses; the queued job or the recovery sweep then makes it, with the same id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.ts';
import { claimDeliveries } from '../store/deliveries.ts';
import { createPool } from '../store/pool.ts';
import { listenDeliveries, type ChangeSubscription } from '../store/notify.ts';
import { tryClaimed, type DeliveryDeps, type FirstTryTimes } from './deliver.ts';
import type { FromThread, ThreadInit, ToThread } from './first-tries.ts';
import { createSenders } from './senders.ts';

/**
 * Claim statements at once. Deliveries come in bursts (100 rollouts ticking together), and one statement claims
 * every delivery heard while the previous ones were on the wire: one round trip for many, rather than one each
 * queueing for the pool's connections.
 */
const CLAIMS_IN_FLIGHT = 2;
const CLAIM_BATCH = 500;

/** Waits before listening again after the connection was lost: doubling from the first, up to the last. */
const RELISTEN_MS = [500, 30_000] as const;

if (!parentPort) throw new Error('first-try-thread.ts runs as a worker thread, started by first-tries.ts');
const port = parentPort;
const init = workerData as ThreadInit;
const post = (message: FromThread) => port.postMessage(message);
let notifications = init.notifications;
const logger = createLogger(init.logLevel, 'oleada-deliveries');
// Connections kept for a minute between bursts, so a burst does not wait for new ones. The claims and the listening
// connection have a pool of their own, so a claim never waits behind the records and Slack reads of earlier tries.
const KEEP_IDLE_MS = 60_000;
const pool = createPool(init.databaseUrl, { max: init.poolSize, idleTimeoutMillis: KEEP_IDLE_MS, applicationName: 'oleada-deliveries' });
const claims = createPool(init.databaseUrl, { max: CLAIMS_IN_FLIGHT + 1, idleTimeoutMillis: KEEP_IDLE_MS, applicationName: 'oleada-deliveries' });
const deps: DeliveryDeps = {
  pool,
  notifications: { current: () => notifications },
  senders: createSenders({ timeoutMs: init.timeoutMs, pool, publicUrl: init.publicUrl, slack: init.slack }),
  schedule: init.schedule,
  claimMs: init.claimMs,
  logger,
  enqueueTry: (deliveryId, attempt, at) => {
    post({ type: 'enqueue', deliveryId, attempt, at: at.getTime() });
    return Promise.resolve();
  },
  metrics: {
    tried: (channel, status) => post({ type: 'tried', channel, status }),
    firstTry: (stage, seconds) => post({ type: 'firstTry', stage, seconds }),
  },
};

/** Claims and tries not finished yet: stop waits for them. */
const inFlight = new Set<Promise<void>>();
/** Deliveries heard of and not yet in a claim, with when they were heard. */
const heard = new Map<string, Omit<FirstTryTimes, 'claimedMark'>>();
let claiming = 0;
let subscription: ChangeSubscription | undefined;
let relistenTimer: NodeJS.Timeout | undefined;
let stopping = false;

function track(work: Promise<void>): void {
  inFlight.add(work);
  void work.finally(() => inFlight.delete(work));
}

function onIds(ids: string[]): void {
  const times = { heardAt: Date.now(), heardMark: performance.now() };
  for (const id of ids) if (!heard.has(id)) heard.set(id, times);
  claimHeard();
}

/** Claims what was heard, in as few statements as CLAIMS_IN_FLIGHT allows, and makes the first try of each claimed. */
function claimHeard(): void {
  while (!stopping && claiming < CLAIMS_IN_FLIGHT && heard.size > 0) {
    const batch = new Map([...heard].slice(0, CLAIM_BATCH));
    for (const id of batch.keys()) heard.delete(id);
    claiming += 1;
    const claim = claimDeliveries(claims, [...batch.keys()], 0, init.claimMs).then(
      (claimed) => {
        const claimedMark = performance.now();
        // Those not claimed were delivered, or are being tried, by their queued job.
        for (const delivery of claimed) {
          track(
            tryClaimed(deps, delivery, { ...batch.get(delivery.id)!, claimedMark }).catch((err: unknown) =>
              logger.warn({ err, delivery: delivery.id }, 'first try of a delivery failed; it is tried again once its claim lapses (its queued job, or the recovery sweep)'),
            ),
          );
        }
      },
      (err: unknown) => logger.warn({ err, deliveries: batch.size }, 'could not claim deliveries for their first try; their queued jobs make it'),
    );
    track(
      claim.finally(() => {
        claiming -= 1;
        claimHeard();
      }),
    );
  }
}

async function listen(): Promise<void> {
  subscription = await listenDeliveries(claims, {
    onIds,
    onLost: (err) => {
      subscription = undefined;
      logger.warn({ err: err.message }, 'the delivery thread lost its LISTEN connection; first tries go through the queue until it is back');
      relisten(RELISTEN_MS[0]);
    },
  });
}

function relisten(waitMs: number): void {
  if (stopping) return;
  relistenTimer = setTimeout(() => {
    listen().then(
      () => logger.info('the delivery thread listens again'),
      () => relisten(Math.min(waitMs * 2, RELISTEN_MS[1])),
    );
  }, waitMs);
}

async function stop(): Promise<void> {
  stopping = true;
  clearTimeout(relistenTimer);
  await subscription?.close();
  await Promise.allSettled([...inFlight]);
  await Promise.all([pool.end(), claims.end()]);
  // Nothing is left to keep the thread alive: it exits.
  port.close();
}

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'notifications':
      notifications = message.value;
      return;
    case 'stop':
      void stop();
      return;
  }
});

await listen();
post({ type: 'ready' });
