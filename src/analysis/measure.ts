import { assertNever } from '../errors.ts';
import type { Verdict } from '../model/state.ts';

/*
 * Argo Rollouts' counting rules for one metric in one cluster, as a pure function (Argo's analysis controller keeps the
 * same counters per metric result):
 *   - a failed measurement adds to failures; the metric fails once failures > failureLimit;
 *   - an inconclusive one adds to inconclusives; once inconclusives > inconclusiveLimit the metric is inconclusive,
 *     which pauses the cluster for a person to decide: it never passes silently;
 *   - an error (Prometheus unreachable, timed out, a bad query) adds to consecutiveErrors, and the metric fails once
 *     consecutiveErrors > consecutiveErrorLimit;
 *   - any measurement that got an answer (successful, failed or inconclusive) resets consecutiveErrors, as in Argo:
 *     Prometheus answered, so the errors were not consecutive.
 * Failure outranks inconclusive when both limits are past, because a metric known to be bad must roll back rather
 * than wait for a person.
 */


export type MetricStatus = 'running' | 'failed' | 'inconclusive';

export interface MetricCounters {
  failures: number;
  inconclusives: number;
  consecutiveErrors: number;
}

export interface MetricLimits {
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
}

/** Which limit decided the status; null while running. */
export type LimitReached = 'failureLimit' | 'inconclusiveLimit' | 'consecutiveErrorLimit' | null;

export interface MetricAssessment {
  counters: MetricCounters;
  status: MetricStatus;
  limit: LimitReached;
  /** For events and people, e.g. "failures (1) > failureLimit (0)"; null while running. */
  reason: string | null;
}

export const NO_MEASUREMENTS: Readonly<MetricCounters> = Object.freeze({ failures: 0, inconclusives: 0, consecutiveErrors: 0 });

/** Counts one more measurement and says where the metric stands. Does not change `counters`. */
export function recordMeasurement(counters: MetricCounters, outcome: Verdict, limits: MetricLimits): MetricAssessment {
  const next = { ...counters };
  switch (outcome) {
    case 'successful':
      next.consecutiveErrors = 0;
      break;
    case 'failed':
      next.failures++;
      next.consecutiveErrors = 0;
      break;
    case 'inconclusive':
      next.inconclusives++;
      next.consecutiveErrors = 0;
      break;
    case 'error':
      next.consecutiveErrors++;
      break;
    default:
      assertNever(outcome, 'measurement outcome');
  }
  return assessMetric(next, limits);
}

/** Where a metric stands given its counters. */
export function assessMetric(counters: MetricCounters, limits: MetricLimits): MetricAssessment {
  if (counters.failures > limits.failureLimit) {
    return {
      counters,
      status: 'failed',
      limit: 'failureLimit',
      reason: `failures (${counters.failures}) > failureLimit (${limits.failureLimit})`,
    };
  }
  if (counters.consecutiveErrors > limits.consecutiveErrorLimit) {
    return {
      counters,
      status: 'failed',
      limit: 'consecutiveErrorLimit',
      reason: `consecutive measurement errors (${counters.consecutiveErrors}) > consecutiveErrorLimit (${limits.consecutiveErrorLimit})`,
    };
  }
  if (counters.inconclusives > limits.inconclusiveLimit) {
    return {
      counters,
      status: 'inconclusive',
      limit: 'inconclusiveLimit',
      reason: `inconclusive measurements (${counters.inconclusives}) > inconclusiveLimit (${limits.inconclusiveLimit})`,
    };
  }
  return { counters, status: 'running', limit: null, reason: null };
}

