/** The clusters Oleada knows, with live health: is the Kubernetes API answering, and the Prometheus that watches it. */
import { Type } from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { toError } from '../../errors.ts';
import type { ApiContext, ClusterHealth } from '../context.ts';
import { COMMON_ERRORS, Name, Problem } from '../schemas.ts';
import { Nullable } from '../../model/wire.ts';
import { ApiError } from '../problem.ts';

export const ClusterViewSchema = Type.Object({
  name: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  health: Type.Object({
    apiReachable: Type.Boolean(),
    serverVersion: Nullable(Type.String()),
    latencyMs: Nullable(Type.Number()),
    error: Nullable(Type.String()),
    prometheusReachable: Type.Boolean(),
    prometheusError: Nullable(Type.String()),
  }),
});

function healthView(health: ClusterHealth) {
  return {
    apiReachable: health.apiReachable,
    serverVersion: health.serverVersion,
    latencyMs: health.latencyMs,
    error: health.error,
    prometheusReachable: health.prometheusReachable,
    prometheusError: health.prometheusError,
  };
}

async function clusterView(context: ApiContext, cluster: { name: string; labels?: Readonly<Record<string, string>> }) {
  let health: ReturnType<typeof healthView>;
  try {
    health = healthView(await context.clusters.health(cluster.name));
  } catch (err) {
    // A registry that throws instead of reporting is itself the answer: the cluster cannot be checked.
    const message = toError(err).message;
    health = { apiReachable: false, serverVersion: null, latencyMs: null, error: message, prometheusReachable: false, prometheusError: message };
  }
  return { name: cluster.name, labels: { ...(cluster.labels ?? {}) }, health };
}

export function clusterRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/clusters',
      {
        schema: {
          tags: ['clusters'],
          summary: 'Every cluster in the clusters file, with live health',
          security: [{ bearer: [] }],
          response: { 200: Type.Object({ items: Type.Array(ClusterViewSchema) }), ...COMMON_ERRORS },
        },
      },
      async () => ({ items: await Promise.all(context.clusters.list().map((cluster) => clusterView(context, cluster))) }),
    );

    typed.get(
      '/api/v1/clusters/:name',
      {
        schema: {
          tags: ['clusters'],
          summary: 'One cluster, with live health',
          security: [{ bearer: [] }],
          params: Type.Object({ name: Name('the cluster name') }, { additionalProperties: false }),
          response: { 200: ClusterViewSchema, ...COMMON_ERRORS, 404: Problem },
        },
      },
      async (request) => {
        const known = context.clusters.list();
        const cluster = known.find((c) => c.name === request.params.name);
        if (!cluster) {
          const names = known.map((c) => c.name).join(', ') || 'none';
          throw new ApiError(404, 'cluster_not_found', `cluster ${request.params.name} is not in the clusters file (known: ${names})`);
        }
        return clusterView(context, cluster);
      },
    );
  };
}
