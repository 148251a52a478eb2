/**
 * The shapes of the API answers the dashboard reads, derived from the same TypeBox schemas the API validates its
 * answers with (src/model). Type-only imports: nothing of the server reaches the bundle.
 */
import type { Static } from 'typebox';
import type { ClusterStatus, EventView, MetricStatus, RolloutStatus, SampleView, WaveStatusView } from '../model/wire.ts';
import type { PhaseSchema, VerdictSchema } from '../model/wire.ts';

export type { Fleet, RolloutFile, WhoAmI } from '../model/dashboard-wire.ts';
export type { ClusterStatus, MetricStatus, WaveStatusView };
export type Rollout = RolloutStatus;
export type RolloutEvent = EventView;
export type Sample = SampleView;
export type Phase = Static<typeof PhaseSchema>;
export type Verdict = Static<typeof VerdictSchema>;
export type ClusterPhase = ClusterStatus['state'];
export type WaveStatus = WaveStatusView['status'];

export interface Page<T> {
  items: T[];
  next: { cursor: string; href: string } | null;
}

/** GET /api/v1/clusters (src/api/routes/clusters.ts). */
export interface ClusterView {
  name: string;
  labels: Record<string, string>;
  health: {
    apiReachable: boolean;
    serverVersion: string | null;
    latencyMs: number | null;
    error: string | null;
    prometheusReachable: boolean;
    prometheusError: string | null;
  };
}
