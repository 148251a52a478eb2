import type { PlanAnalysis } from '../spec/plan.ts';
import type { SpecError } from '../spec/errors.ts';
import { formatDuration } from '../spec/duration.ts';
import { levelReachable } from './mann-whitney.ts';

/*
 * What a judged metric reads per analysis: each side's samples over the last interval, by range query. How many that
 * is bounds what the Mann-Whitney test can show, so a file whose interval can never give enough is refused at create
 * rather than left to pause every cluster on "too few samples".
 */

/**
 * The step of the range queries: one sample per 1/60 of the interval, and never closer than Prometheus's usual 1 s, so
 * an interval of a minute or more gives 61 samples a side and a 10 s interval 11.
 */
export function rangeStepMs(intervalMs: number): number {
  return Math.max(1_000, Math.floor(intervalMs / 60));
}

/** The most samples a side one range query over the interval can hold: both ends included. */
export function samplesPerSide(intervalMs: number): number {
  return Math.floor(intervalMs / rangeStepMs(intervalMs)) + 1;
}

/** Judged metrics whose confidence the interval's samples can never reach, each with the interval that would. */
export function judgedRangeProblems(analysis: PlanAnalysis | null): SpecError[] {
  if (!analysis) return [];
  const samples = samplesPerSide(analysis.intervalMs);
  return analysis.metrics.flatMap((metric, index) => {
    const confidence = metric.judge?.confidence;
    if (confidence === undefined || levelReachable(samples, samples, confidence)) return [];
    const advice = `use an analysis interval of at least ${formatDuration(shortestJudgedInterval(confidence))}, or lower judge.confidence`;
    return [
      {
        path: `/analysis/metrics/${index}/judge/confidence`,
        message: `${confidence} cannot be reached: an interval of ${formatDuration(analysis.intervalMs)} gives ${samples} samples a side, too few for the test; ${advice}`,
      },
    ];
  });
}

/**
 * The shortest interval whose samples can reach `confidence`. A minute's 61 samples a side reach every confidence
 * below 1 that a number can hold (their smallest p-value is about 1e-21), so the search ends there.
 */
function shortestJudgedInterval(confidence: number): number {
  let seconds = 1;
  while (seconds < 60 && !levelReachable(samplesPerSide(seconds * 1000), samplesPerSide(seconds * 1000), confidence)) seconds++;
  return seconds * 1000;
}
