/**
 * The scale benchmark's baseline: raw BullMQ on the same Redis, with a processor that does nothing. Run as its own
 * process, like the engine. Two measurements, printed as one JSON line:
 * - throughput: `jobs` ready jobs drained by one worker at `concurrency` (the engine's default, 50);
 * - delayed-job lateness: `delayed` jobs spread evenly over `spreadMs`, each due at its own time, and how late the
 *   no-op processor started each (started minus due), which is what the engine's tick lateness adds its work to.
 * Both use the tick job's options (src/queue/catalog.ts), so the Redis work per job is the same.
 * Usage: bullmq-noop.ts <redisUrl> <prefix> <jobs> <concurrency> <delayed> <spreadMs>
 */
import { Queue, Worker } from 'bullmq';
import { jobs as catalog } from '../../../src/queue/catalog.ts';
import { closeRedis, createRedis } from '../../../src/queue/connection.ts';

const [redisUrl, prefix, jobsArg, concurrencyArg, delayedArg, spreadArg] = process.argv.slice(2);
const total = Number(jobsArg);
const concurrency = Number(concurrencyArg);
const delayed = Number(delayedArg);
const spreadMs = Number(spreadArg);
const options = catalog.tick.options;

const producer = createRedis(redisUrl!, 'producer');
const workerConnection = createRedis(redisUrl!, 'worker');

async function throughput(): Promise<{ jobs: number; seconds: number; jobsPerSecond: number }> {
  const queue = new Queue('noop', { connection: producer, prefix });
  for (let i = 0; i < total; i += 1_000) {
    const size = Math.min(1_000, total - i);
    await queue.addBulk(Array.from({ length: size }, (_, j) => ({ name: 'tick', data: { n: i + j }, opts: { ...options } })));
  }
  let done = 0;
  let finished: () => void = () => {};
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const started = performance.now();
  const worker = new Worker('noop', async () => {}, { connection: workerConnection, prefix, concurrency, removeOnComplete: { count: 1_000 } });
  worker.on('completed', () => {
    done += 1;
    if (done === total) finished();
  });
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { jobs: total, seconds, jobsPerSecond: total / seconds };
}

async function lateness(): Promise<{ jobs: number; spreadMs: number; latenessMs: number[] }> {
  const queue = new Queue('noop-delayed', { connection: producer, prefix });
  const connection = createRedis(redisUrl!, 'worker');
  const late: number[] = [];
  let finished: () => void = () => {};
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const worker = new Worker(
    'noop-delayed',
    async (job) => {
      late.push(Date.now() - (job.data as { dueAt: number }).dueAt);
      if (late.length === delayed) finished();
    },
    { connection, prefix, concurrency, removeOnComplete: { count: 1_000 } },
  );
  await worker.waitUntilReady();
  const base = Date.now() + 2_000;
  for (let i = 0; i < delayed; i += 500) {
    const size = Math.min(500, delayed - i);
    await queue.addBulk(
      Array.from({ length: size }, (_, j) => {
        const dueAt = base + ((i + j) * spreadMs) / delayed;
        return { name: 'tick', data: { dueAt }, opts: { ...options, delay: Math.max(0, dueAt - Date.now()) } };
      }),
    );
  }
  await allDone;
  await worker.close();
  await closeRedis(connection);
  await queue.obliterate({ force: true });
  await queue.close();
  return { jobs: delayed, spreadMs, latenessMs: late };
}

const result = { throughput: total > 0 ? await throughput() : undefined, lateness: delayed > 0 ? await lateness() : undefined };
console.log(`RESULT ${JSON.stringify(result)}`);
await closeRedis(workerConnection);
await closeRedis(producer);
process.exit(0);
