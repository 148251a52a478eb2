// Run by heap-growth.test.ts in a child process: sets the heap growth (src/heap.ts), keeps ~200,000 objects alive,
// churns medium-lived garbage, and prints the peak heap size.
import { getHeapStatistics } from 'node:v8';
const { applyHeapGrowth } = await import(process.argv[2]);
applyHeapGrowth(Number(process.argv[3]));
const live = [];
for (let i = 0; i < 200_000; i++) live.push({ i, name: `object ${i}` });
let recent = [];
let peak = 0;
for (let round = 0; round < 150; round++) {
  for (let i = 0; i < 20_000; i++) recent.push({ round, i, name: `garbage ${i}` });
  if (recent.length > 60_000) recent = recent.slice(-20_000);
  peak = Math.max(peak, getHeapStatistics().total_heap_size);
}
console.log(JSON.stringify({ peakMB: peak / 2 ** 20, live: live.length }));
