/**
 * Runs `work` every `intervalMs` until stopped. The interval counts from the end of one run to the start of the next,
 * so runs never overlap, and `stop` waits for a run in progress. `work` handles its own errors: a rejection here
 * would be unhandled. With `atStart`, the first run is at once rather than after an interval.
 */
export function runPeriodically(work: () => Promise<void>, intervalMs: number, options: { atStart?: boolean } = {}): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = () => {
    running = work().finally(() => {
      if (!stopped) timer = setTimeout(run, intervalMs);
    });
  };
  if (options.atStart) run();
  else timer = setTimeout(run, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
