/** What the route modules share: the app's dependencies and the live machinery built once in buildApp. */
import type { RolloutService } from '../engine/rollout-service.ts';
import type { Pool } from '../store/pool.ts';
import type { TokenStore } from './auth/tokens.ts';
import type { ChangeFeed } from './live/change-feed.ts';
import type { StreamOptions, StreamRegistry } from './live/event-stream.ts';
import type { ListGeneration } from './live/list-generation.ts';
import type { StatusSnapshots } from './live/status-snapshots.ts';
import type { VersionCache } from './live/version-cache.ts';

import type { ClusterHealth } from '../clusters/registry.ts';

export type { ClusterHealth };

/** The part of the cluster registry (clusters/registry.ts) the API uses; only names and labels are ever shown. */
export interface ClusterDirectory {
  list(): readonly { name: string; labels?: Readonly<Record<string, string>> }[];
  health(name: string): Promise<ClusterHealth>;
}

export interface ApiContext {
  pool: Pool;
  service: RolloutService | undefined;
  clusters: ClusterDirectory;
  tokens: () => TokenStore;
  feed: ChangeFeed | undefined;
  /** Present when conditional GETs are answered from memory; absent when each reads the version from PostgreSQL. */
  versions: VersionCache | undefined;
  /** Present with `versions`: where the rollouts table stands, for 304s to list polls without reading the list. */
  listGeneration: ListGeneration | undefined;
  streams: StreamRegistry;
  streamOptions: StreamOptions;
  /** The status messages of event streams that asked for them, shared by every stream of a rollout. */
  statusSnapshots: StatusSnapshots;
}
