/**
 * The poll benchmark's server: Oleada's API as `oleada api` builds it (src/cli/commands/serve.ts), and in the same
 * process a bare fastify route answering a constant, the baseline. Prints "listening api=<port> bare=<port>" and serves
 * until SIGTERM.
 *
 * The API's rate limit stays in the request path, with a ceiling far above what one machine can send, so that its
 * cost is measured without its 429s: the default (600 per token per minute) would answer most of a 10-second run
 * with 429, which measures the limiter, not the route a dashboard polls.
 */
import Fastify from 'fastify';
import { buildApp } from '../../../src/api/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createRuntime } from '../../../src/runtime.ts';

const config = loadConfig(process.env);
const runtime = await createRuntime(config, { migrate: false });
const api = await buildApp({
  pool: runtime.pool,
  redis: runtime.redis,
  logger: runtime.logger,
  service: runtime.service,
  clusters: runtime.clusters,
  tokensFile: config.OLEADA_TOKENS_FILE,
  metricsAuth: config.OLEADA_METRICS_AUTH,
  // BENCH_RATE_LIMIT=off takes the limiter out of the path, to measure what it costs a poll.
  rateLimit: process.env.BENCH_RATE_LIMIT === 'off' ? false : { max: 1_000_000_000, timeWindowMs: 60_000 },
});
await api.listen({ host: '127.0.0.1', port: 0 });

const bare = Fastify({ logger: false });
const CONSTANT = { status: 'ok' };
bare.get('/constant', async () => CONSTANT);
await bare.listen({ host: '127.0.0.1', port: 0 });

const portOf = (app: { server: { address(): unknown } }) => (app.server.address() as { port: number }).port;
console.log(`listening api=${portOf(api)} bare=${portOf(bare)}`);

const stop = async () => {
  await bare.close();
  await api.close();
  await runtime.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
