import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CHURN = fileURLToPath(new URL('./heap-churn.mjs', import.meta.url));
const HEAP = fileURLToPath(new URL('../../../src/heap.ts', import.meta.url));

/** The peak heap of a process that keeps live data and makes garbage that survives young collections. */
async function peakHeapMB(growthPercent: number): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHURN, HEAP, String(growthPercent)], { timeout: 60_000 });
  return (JSON.parse(stdout) as { peakMB: number }).peakMB;
}

describe('the heap growth setting (OLEADA_HEAP_GROWTH_PERCENT)', () => {
  it('keeps the heap closer to its live data than V8 does on its own when it is set at start', async () => {
    // Run one after the other: two at once would share the cores, and V8 sizes its own growth by how fast it collects.
    const ownChoice = await peakHeapMB(0);
    const capped = await peakHeapMB(30);
    expect(capped).toBeLessThan(ownChoice * 0.85);
  }, 120_000);
});
