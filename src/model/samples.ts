import type { Verdict } from './state.ts';

/** One analysis measurement: the query as sent, what came back, and the verdict on it. */
export interface AnalysisSample {
  wave: string | null;
  cluster: string;
  metric: string;
  query: string;
  value: number | null;
  verdict: Verdict;
  error: string | null;
  measuredAt: Date;
}
