/**
 * The shapes of the API answers the dashboard reads: the parts it shows of the schemas in src/api (the OpenAPI
 * document at /api/v1/openapi.json is the full contract). Kept by hand because the server's types pull in Node.
 */
export type Phase = 'pending' | 'progressing' | 'paused' | 'awaiting_approval' | 'rolling_back' | 'succeeded' | 'rolled_back' | 'aborted' | 'failed';
export type ClusterPhase = 'pending' | 'canary' | 'promoting' | 'promoted' | 'rolling_back' | 'rolled_back' | 'failed';
export type WaveStatus = 'pending' | 'awaiting_approval' | 'running' | 'baking' | 'succeeded' | 'rolled_back';
export type Verdict = 'successful' | 'failed' | 'inconclusive' | 'error';

export interface MetricStatus {
  name: string;
  lastVerdict: Verdict | null;
  lastValue: number | null;
  lastAt: string | null;
  lastError: string | null;
  failures: number;
  inconclusives: number;
  measurements: number;
}

export interface ClusterStatus {
  name: string;
  wave: string | null;
  state: ClusterPhase;
  step: number;
  stepCount: number | null;
  awaitingPromote: boolean;
  pauseUntil: string | null;
  targetWeight: number;
  actualWeight: number;
  canaryReplicas: number;
  stableReplicas: number;
  metrics: MetricStatus[];
  reason: string | null;
  lastKubeError: string | null;
}

export interface WaveStatusView {
  name: string;
  status: WaveStatus;
  clusters: string[];
  approvedBy: string | null;
  startedAt: string | null;
  bakeUntil: string | null;
  finishedAt: string | null;
}

export interface Rollout {
  id: string;
  app: string;
  namespace: string | null;
  image: string | null;
  version: string | null;
  phase: Phase;
  reason: string;
  revision: number;
  currentWave: { index: number; name: string } | null;
  waves: WaveStatusView[];
  clusters: ClusterStatus[];
  paused: { kind: string; actor: string; reason: string; at: string } | null;
  rollback: { cause: string; cluster: string | null; endPhase: string; actor: string } | null;
  lastEventSeq: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Page<T> {
  items: T[];
  next: { cursor: string; href: string } | null;
}

export interface RolloutEvent {
  seq: number;
  time: string;
  type: string;
  wave: string | null;
  cluster: string | null;
  actor: string;
  message: string;
}

export interface Sample {
  cluster: string;
  metric: string;
  value: number | null;
  verdict: Verdict;
  error: string | null;
  measuredAt: string;
}

export interface RolloutFile {
  spec: Record<string, unknown>;
  metrics: { name: string; min?: number; max?: number }[];
  analysisIntervalMs: number | null;
  waves: { name: string; approval: boolean; bakeMs: number; stepCount: number }[];
}

export interface WhoAmI {
  name: string;
  role: 'viewer' | 'deployer' | 'admin';
  apps: string[] | null;
  may: { read: boolean; command: boolean };
}

export interface Fleet {
  clusters: string[];
  apps: {
    app: string;
    cells: {
      cluster: string;
      version: string | null;
      lastRollout: { id: string; version: string | null; phase: Phase; clusterState: ClusterPhase } | null;
      moving: { rolloutId: string; toVersion: string | null; phase: Phase; clusterState: ClusterPhase; actualWeight: number } | null;
    }[];
  }[];
}

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
