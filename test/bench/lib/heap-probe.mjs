// Loaded into the engine process by the scale benchmark (node --import), not by Oleada. Each SIGUSR2 opens or closes a
// measuring window; at the close it writes to BENCH_HEAP_PROBE_FILE what V8's GC profiler saw in the window: the bytes
// allocated (growth of the used heap between collections, summed) and the heap left after the last full collection
// (the live data). Neither moves with the machine's load, unlike times. Plain JavaScript so that it loads without tsx.
import { writeFileSync } from 'node:fs';
import { GCProfiler, getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const file = process.env.BENCH_HEAP_PROBE_FILE;
let window;

process.on('SIGUSR2', () => {
  if (!file) return;
  if (!window) {
    const profiler = new GCProfiler();
    profiler.start();
    window = { profiler, usedAtStart: getHeapStatistics().used_heap_size };
    return;
  }
  const { profiler, usedAtStart } = window;
  window = undefined;
  const { statistics } = profiler.stop();
  let allocated = 0;
  let used = usedAtStart;
  let fullCollections = 0;
  let liveAfterFull = null;
  for (const gc of statistics) {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - used;
    used = gc.afterGC.heapStatistics.usedHeapSize;
    if (gc.gcType === 'MarkSweepCompact') {
      fullCollections++;
      liveAfterFull = used;
    }
  }
  allocated += getHeapStatistics().used_heap_size - used;
  const collections = statistics.length;
  const gcSeconds = statistics.reduce((sum, gc) => sum + gc.cost, 0) / 1e6;
  // Where the resident memory is at the window's end: V8's heap as committed (its new space apart) and the rest.
  const { rss, heapTotal, external } = process.memoryUsage();
  const newSpaceBytes = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  const memory = { rssBytes: rss, heapCommittedBytes: heapTotal, newSpaceBytes, externalBytes: external };
  writeFileSync(file, JSON.stringify({ allocatedBytes: allocated, collections, fullCollections, liveAfterFullBytes: liveAfterFull, gcSeconds, memory }));
});
