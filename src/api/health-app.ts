/**
 * The small HTTP server of an `oleada worker`: /healthz, /readyz and /metrics only, so that a worker running on its
 * own can be probed and scraped like the API. Its tick, analysis and cluster metrics are recorded in this process.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log.ts';
import { handleError, sendProblem } from './problem.ts';
import { healthRoutes, type HealthDeps } from './routes/health.ts';

export async function buildHealthApp(deps: HealthDeps & { logger: Logger }): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 404, 'not_found', `an oleada worker serves only /healthz, /readyz and /metrics; the API runs in \`oleada api\``),
  );
  await app.register(healthRoutes(deps));
  return app;
}
