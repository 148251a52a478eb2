import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { registry } from '../../metrics.ts';
import { migrationStatus } from '../../store/migrate.ts';
import type { Redis } from '../../queue/connection.ts';
import type { Pool } from '../../store/pool.ts';

const Check = Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) });
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({ postgres: Check, redis: Check, migrations: Check }),
});

const PROBE_TIMEOUT_MS = 2_000;

async function probe(fn: () => Promise<string | undefined>): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    });
    const problem = await Promise.race([fn(), timeout]);
    return problem === undefined ? { ok: true } : { ok: false, error: problem };
  } catch (err) {
    return { ok: false, error: (err as Error).message || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** What the probes look at; a narrow type so that this module does not import the app that registers it. */
export interface HealthDeps {
  pool: Pool;
  redis: Redis;
}

export function healthRoutes(deps: HealthDeps): FastifyPluginAsync {
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get('/healthz', { schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
      status: 'ok' as const,
    }));

    typed.get(
      '/readyz',
      { schema: { tags: ['health'], response: { 200: Readiness, 503: Readiness } } },
      async (_request, reply) => {
        const [postgres, redis, migrations] = await Promise.all([
          probe(async () => {
            await deps.pool.query('SELECT 1');
            return undefined;
          }),
          probe(async () => {
            const answer = await deps.redis.ping();
            return answer === 'PONG' ? undefined : `unexpected answer ${answer}`;
          }),
          probe(async () => (await migrationStatus(deps.pool)).problem),
        ]);
        const ready = postgres.ok && redis.ok && migrations.ok;
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: { postgres, redis, migrations } });
      },
    );

    app.get('/metrics', { schema: { tags: ['health'], hide: true } }, async (_request, reply) => {
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  };
}
