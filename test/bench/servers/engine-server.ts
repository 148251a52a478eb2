/**
 * `oleada serve` for the benchmarks: the engine and the API in one process, built exactly as src/cli/commands/serve.ts
 * builds them, plus the two dependencies that command does not pass to buildApp yet (the rollout service, so that
 * POST /rollouts and the commands work, and the tokens file, so that any /api/v1 route answers other than 401).
 * Prints the same two lines as `oleada serve` and stops on SIGTERM the same way.
 */
import { buildApp } from '../../../src/api/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createRuntime, startEngine } from '../../../src/runtime.ts';

const config = loadConfig(process.env);
const runtime = await createRuntime(config);
const engine = await startEngine(runtime);
const app = await buildApp({
  pool: runtime.pool,
  redis: runtime.redis,
  logger: runtime.logger,
  service: runtime.service,
  tokensFile: config.OLEADA_TOKENS_FILE,
  metricsAuth: config.OLEADA_METRICS_AUTH,
});
const address = await app.listen({ host: config.OLEADA_HOST, port: config.OLEADA_PORT });
console.log(`oleada api listening on ${address}`);
console.log(`oleada engine running ${config.OLEADA_WORKER_CONCURRENCY} ticks at a time (${runtime.owner})`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  await engine.stop();
  await runtime.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
