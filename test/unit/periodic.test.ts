import { describe, expect, it } from 'vitest';
import { runPeriodically } from '../../src/periodic.ts';
import { waitFor } from '../support/wait.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runPeriodically', () => {
  it('never overlaps two runs, and stop waits for the run in progress and schedules no other', async () => {
    let inFlight = 0;
    let most = 0;
    let runs = 0;
    let finished = 0;
    const loop = runPeriodically(async () => {
      runs++;
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(30);
      inFlight--;
      finished++;
    }, 1);
    await waitFor('three runs', () => runs >= 3, 5_000);
    await loop.stop();
    expect(finished).toBe(runs);
    expect(most).toBe(1);
    const after = runs;
    await sleep(50);
    expect(runs).toBe(after);
  });

  it('runs first after an interval, or at once with atStart', async () => {
    const at: Record<string, number> = {};
    const started = performance.now();
    const later = runPeriodically(async () => void (at.later ??= performance.now() - started), 200);
    const now = runPeriodically(async () => void (at.now ??= performance.now() - started), 200, { atStart: true });
    expect(at.now).toBeDefined();
    expect(at.later).toBeUndefined();
    await waitFor('the delayed first run', () => at.later !== undefined, 5_000);
    expect(at.later).toBeGreaterThanOrEqual(190);
    await Promise.all([later.stop(), now.stop()]);
  });
});
