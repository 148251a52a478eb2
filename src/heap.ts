import { setFlagsFromString } from 'node:v8';

/*
 * How far V8 lets the old generation grow past the data that survived the last full collection before it collects
 * again. V8 chooses up to 4× on a machine with gigabytes to spare, and a worker allocates fast (every tick makes a few
 * hundred KB of short-lived objects, and those alive across a young collection move to the old generation): at
 * N = 1,000 rollouts the heap swung between about 100 MB live and 400 MB before each full collection, which is most of
 * the engine's resident memory (docs/performance.md, "Peak RSS"). A fixed factor (OLEADA_HEAP_GROWTH_PERCENT, 30% by default) keeps the peak near the live data, at
 * the cost of more frequent full collections, most of whose marking runs on V8's background threads.
 *
 * V8 reads this flag each time it sizes the heap after a full collection, so setting it once at start takes effect
 * from the first one; it cannot be put in NODE_OPTIONS (Node accepts only a few V8 flags there), hence the variable.
 */
export function applyHeapGrowth(percent: number): void {
  // 0 leaves V8's own choice.
  setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
