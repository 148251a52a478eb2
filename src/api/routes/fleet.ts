/** The fleet view: apps x clusters, the version each cluster runs and whether a rollout is moving it. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listFleetCells, type FleetCell } from '../../store/fleet.ts';
import { principalOf } from '../auth/access.ts';
import type { ApiContext } from '../context.ts';
import { COMMON_ERRORS } from '../schemas.ts';
import { FleetSchema, type Fleet, type FleetCellView } from '../../model/dashboard-wire.ts';

/** What runs on a cluster after a rollout: the new version once promoted, else the stable version it kept or restored. */
function runningVersion(cell: FleetCell): string | null {
  if (cell.clusterPhase === 'promoted') return cell.rolloutVersion;
  // While a cluster is being promoted or rolled back from a promotion, which version serves is in flux; the stable one
  // is what the record knows for sure.
  return cell.stableVersion;
}

export function toFleet(current: FleetCell[], active: FleetCell[]): Fleet {
  const cells = new Map<string, Map<string, FleetCellView>>();
  const cellFor = (app: string, cluster: string): FleetCellView => {
    let row = cells.get(app);
    if (!row) cells.set(app, (row = new Map()));
    let cell = row.get(cluster);
    if (!cell) row.set(cluster, (cell = { cluster, version: null, lastRollout: null, moving: null }));
    return cell;
  };
  for (const c of current) {
    const cell = cellFor(c.app, c.cluster);
    cell.version = runningVersion(c);
    cell.lastRollout = { id: c.rolloutId, version: c.rolloutVersion, phase: c.rolloutPhase, clusterState: c.clusterPhase };
  }
  for (const c of active) {
    cellFor(c.app, c.cluster).moving = {
      rolloutId: c.rolloutId,
      toVersion: c.rolloutVersion,
      phase: c.rolloutPhase,
      clusterState: c.clusterPhase,
      actualWeight: c.actualWeight,
    };
  }
  const clusters = [...new Set([...current, ...active].map((c) => c.cluster))].sort();
  const apps = [...cells.keys()].sort().map((app) => ({
    app,
    cells: [...cells.get(app)!.values()].sort((a, b) => a.cluster.localeCompare(b.cluster)),
  }));
  return { clusters, apps };
}

export function fleetRoutes(context: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/api/v1/fleet',
      {
        schema: {
          tags: ['fleet'],
          summary: 'Apps x clusters: the version each cluster runs and the rollout moving it, from the rollout records',
          description: 'Only apps the token may see. A cluster no rollout has touched yet has version null until its first rollout starts.',
          security: [{ bearer: [] }],
          response: { 200: FleetSchema, ...COMMON_ERRORS },
        },
      },
      async (request) => {
        const { current, active } = await listFleetCells(context.pool, principalOf(request).apps);
        return toFleet(current, active);
      },
    );
  };
}
