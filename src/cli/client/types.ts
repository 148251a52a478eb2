/**
 * The API's answers as the CLI reads them off the wire. They mirror the views in src/api/views/, but the CLI is an
 * HTTP client and depends on the contract, not on the server's modules.
 */

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
  state: string;
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
  startedAt: string | null;
  finishedAt: string | null;
}

export interface WaveStatus {
  name: string;
  status: string;
  clusters: string[];
  approvedBy: string | null;
  startedAt: string | null;
  bakeUntil: string | null;
  finishedAt: string | null;
}

export interface RolloutStatus {
  id: string;
  app: string;
  namespace: string | null;
  image: string | null;
  version: string | null;
  phase: string;
  reason: string;
  revision: number;
  currentWave: { index: number; name: string } | null;
  waves: WaveStatus[];
  clusters: ClusterStatus[];
  paused: { kind: string; actor: string; reason: string; at: string } | null;
  rollback: { cause: string; cluster: string | null; endPhase: string; actor: string } | null;
  lastEventSeq: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  links: { self: string; events: string; stream: string; analysis: string };
}

export interface RolloutEvent {
  seq: number;
  time: string;
  type: string;
  wave: string | null;
  cluster: string | null;
  actor: string;
  message: string;
  data: Record<string, unknown>;
}

export interface RolloutPage {
  items: RolloutStatus[];
  next: { cursor: string; href: string } | null;
}

export interface EventPage {
  items: RolloutEvent[];
  nextAfter: number;
  more: boolean;
  phase: string;
  terminal: boolean;
}

export interface StoredCommand {
  id: number;
  rolloutId: string;
  type: string;
  args: { cluster?: string; wave?: string; full?: boolean };
  reason: string | null;
  actor: string;
  createdAt: string;
}

export interface PlanPreview {
  plan: {
    app: string;
    version: string;
    waves: { name: string; clusters: string[]; maxParallel: number; approval: boolean; bakeMs: number; steps: ({ kind: 'setWeight'; weight: number } | { kind: 'pause'; durationMs?: number })[] }[];
  };
  queries: { wave: string; cluster: string; prometheusUrl: string | null; metrics: { name: string; query: string; min?: number; max?: number }[] }[];
  shortestDurationMs: number;
}

export const TERMINAL_PHASES = ['succeeded', 'rolled_back', 'aborted', 'failed'];

export function isTerminalPhase(phase: string): boolean {
  return TERMINAL_PHASES.includes(phase);
}
