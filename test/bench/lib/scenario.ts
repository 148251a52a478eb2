import { waitFor as waitUntil } from '../../support/wait.ts';
import type { Row } from './report.ts';
import type { Services } from './services.ts';

/** What every scenario is handed by the runner. */
export interface BenchContext {
  services: Services;
  /** Smaller sizes, so that the whole run takes under 3 minutes. */
  quick: boolean;
  /** `--sizes 100,500,5000@60s`: the scale scenario's sizes instead of its defaults (see parseSizes). */
  sizes?: SizeArg[];
  /** A folder of the run's own for files (kubeconfigs, tokens, clusters files), deleted at the end. */
  dir: string;
  /** Progress on stderr, so that stdout holds only the results. */
  log(message: string): void;
  /** Registers cleanup to run at the end of the scenario, last registered first, even when it failed. */
  defer(fn: () => Promise<unknown> | unknown): void;
}

/** One `--sizes` item: a number of rollouts, and a cadence when it is not the scenario's default. */
export interface SizeArg {
  n: number;
  cadenceS?: number;
}

/**
 * `--sizes 100,1000,5000@60s`: numbers of rollouts, each optionally at a cadence in seconds (`@60s` or `@60`), so that
 * one row of the scale scenario can be run alone. Returns a message saying what is wrong for a bad list.
 */
export function parseSizes(text: string): SizeArg[] | string {
  const sizes: SizeArg[] = [];
  for (const item of text.split(',').filter((i) => i.trim() !== '')) {
    const match = /^\s*(\d+)(?:@(\d+)s?)?\s*$/.exec(item);
    const n = Number(match?.[1]);
    const cadenceS = match?.[2] === undefined ? undefined : Number(match[2]);
    if (!match || n < 1 || (cadenceS !== undefined && cadenceS < 1)) {
      return `--sizes: "${item}" is not a number of rollouts with an optional cadence (e.g. 1000 or 5000@60s)`;
    }
    sizes.push(cadenceS === undefined ? { n } : { n, cadenceS });
  }
  if (sizes.length === 0) return '--sizes needs at least one size, e.g. --sizes 1000 or --sizes 5000@60s';
  return sizes;
}

export interface ScenarioOutput {
  rows: Row[];
  details: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  summary: string;
  run(ctx: BenchContext): Promise<ScenarioOutput>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The tests' waitFor, with a benchmark's longer default deadline and slower default polling. */
export function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  return waitUntil(what, fn, timeoutMs, everyMs);
}

/** Epoch milliseconds with sub-millisecond precision: the one clock that kube-sim's audit, in this process, uses. */
export const now = (): number => performance.timeOrigin + performance.now();

/** Runs `fn` with a cleanup list of its own, emptied (last registered first) when it ends, however it ends. */
export async function withCleanup<T>(fn: (defer: (cleanup: () => Promise<unknown> | unknown) => void) => Promise<T>): Promise<T> {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  try {
    return await fn((cleanup) => cleanups.push(cleanup));
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        process.stderr.write(`cleanup failed: ${String(err)}\n`);
      }
    }
  }
}
