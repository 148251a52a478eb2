import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from '../log.ts';
import { httpRequestDuration } from '../metrics.ts';
import type { Redis } from '../queue/connection.ts';
import type { Pool } from '../store/pool.ts';
import { handleError, ProblemSchema, sendProblem } from './problem.ts';
import { healthRoutes } from './routes/health.ts';

/** What the API needs from the process around it; built once in runtime.ts. */
export interface ApiDeps {
  pool: Pool;
  redis: Redis;
  logger: Logger;
  /** The largest request body accepted, in bytes. */
  bodyLimit?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    // A caller's request id is kept when it is sane, so one id follows a request through CI, Oleada and the logs.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    disableRequestLogging: true,
    return503OnClosing: true,
  });

  app.addSchema(ProblemSchema);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 404, 'not_found', `there is no route ${request.method} ${request.url.split('?')[0]}; see /api/v1/openapi.json`),
  );

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    httpRequestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode >= 500) request.log.warn({ url: request.url, status: reply.statusCode }, 'request failed');
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Oleada',
        version: '1',
        description: 'Progressive multi-cluster rollouts: create, follow, promote and abort canary rollouts across clusters.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });

  await app.register(healthRoutes(deps));
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}
