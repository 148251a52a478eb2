/**
 * The JSON of the routes the dashboard added (who am I, the fleet, a rollout's file), as TypeBox schemas: the API
 * validates and documents its answers with them and the dashboard (src/web) derives its types from them. Pure.
 */
import { Type, type Static } from 'typebox';
import { Nullable, PhaseSchema } from './wire.ts';

export const WhoAmISchema = Type.Object({
  name: Type.String({ description: 'the token name, written to the event log as the actor' }),
  role: Type.Enum(['viewer', 'deployer', 'admin']),
  apps: Nullable(Type.Array(Type.String(), { description: 'the app globs the token is limited to; null means every app' })),
  may: Type.Object({
    read: Type.Boolean({ description: 'list and read rollouts, events, analysis, clusters' }),
    command: Type.Boolean({ description: 'create rollouts and give commands (promote, approve, pause, resume, abort)' }),
  }),
});

const ClusterPhaseSchema = Type.Enum(['pending', 'canary', 'promoting', 'promoted', 'rolling_back', 'rolled_back', 'failed']);

export const FleetCellSchema = Type.Object({
  cluster: Type.String(),
  version: Nullable(Type.String({ description: 'the version the stable Deployment runs, as the newest rollout that touched it recorded' })),
  lastRollout: Nullable(
    Type.Object({ id: Type.String(), version: Nullable(Type.String()), phase: PhaseSchema, clusterState: ClusterPhaseSchema }),
  ),
  moving: Nullable(
    Type.Object(
      {
        rolloutId: Type.String(),
        toVersion: Nullable(Type.String()),
        phase: PhaseSchema,
        clusterState: ClusterPhaseSchema,
        actualWeight: Type.Number({ description: 'the share of traffic on the new version now, in percent' }),
      },
      { description: 'the active rollout that includes this cluster; null when none does' },
    ),
  ),
});

export const FleetSchema = Type.Object({
  clusters: Type.Array(Type.String(), { description: 'every cluster that appears in a cell, sorted' }),
  apps: Type.Array(Type.Object({ app: Type.String(), cells: Type.Array(FleetCellSchema) })),
});

export const RolloutFileSchema = Type.Object({
  spec: Type.Object({}, { additionalProperties: true, description: 'the rollout file as submitted, after defaults' }),
  metrics: Type.Array(
    Type.Object({ name: Type.String(), min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) }),
    { description: 'each metric with the thresholds its samples are judged against' },
  ),
  analysisIntervalMs: Nullable(Type.Number()),
  waves: Type.Array(Type.Object({ name: Type.String(), approval: Type.Boolean(), bakeMs: Type.Number(), stepCount: Type.Integer() })),
});

export type WhoAmI = Static<typeof WhoAmISchema>;
export type Fleet = Static<typeof FleetSchema>;
export type FleetCellView = Static<typeof FleetCellSchema>;
export type RolloutFile = Static<typeof RolloutFileSchema>;
