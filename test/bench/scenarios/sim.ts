import type { Scenario } from '../lib/scenario.ts';

/**
 * kube-sim's own benchmark (test/bench/sim.ts) is written by kube-sim's engineer. It joins this runner when it exports
 * a function to run; otherwise it stays a standalone script and this returns undefined.
 */
export async function simScenario(path: string): Promise<Scenario | undefined> {
  const module = (await import(path)) as Record<string, unknown>;
  const run = ['runSimBench', 'run', 'main', 'default'].map((name) => module[name]).find((v) => typeof v === 'function');
  if (!run) return undefined;
  return {
    name: 'sim',
    summary: "kube-sim's own limits (test/bench/sim.ts): GET throughput on one core, memory of 1,000 deployments",
    async run() {
      throw new Error('test/bench/sim.ts exports a function, but its results are not wired into this table yet');
    },
  };
}
