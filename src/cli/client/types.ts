/**
 * The API's answers as the CLI reads them off the wire: derived from the schemas the API itself validates its
 * responses with (src/model/wire.ts), so the client and the server cannot drift apart.
 */
import type { Static } from 'typebox';
import type { Plan } from '../../spec/plan.ts';
import type { CommandViewSchema, EventViewSchema, PlanPreviewSchema, RolloutStatus } from '../../model/wire.ts';

export type { ClusterStatus, EventPage, MetricStatus, RolloutStatus } from '../../model/wire.ts';

export type RolloutEvent = Static<typeof EventViewSchema>;
export type StoredCommand = Static<typeof CommandViewSchema>;

export interface RolloutPage {
  items: RolloutStatus[];
  next: { cursor: string; href: string } | null;
}

/** The plan route's schema leaves the resolved plan open; these are the parts of it the CLI shows. */
type PlanWave = Plan['waves'][number];
export type PlanPreview = Omit<Static<typeof PlanPreviewSchema>, 'plan'> & {
  plan: Pick<Plan, 'app' | 'version' | 'traffic'> & { waves: Pick<PlanWave, 'name' | 'clusters' | 'maxParallel' | 'approval' | 'bakeMs' | 'steps'>[] };
};
