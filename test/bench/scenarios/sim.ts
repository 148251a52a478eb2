import { readFile } from 'node:fs/promises';
import type { Scenario } from '../lib/scenario.ts';

/**
 * kube-sim's own benchmark (test/bench/sim.ts) is written by kube-sim's engineer. It joins this runner as the scenario
 * `sim` only when it exports a function to run. The check reads its source rather than importing it: the script does
 * its work at the top level, so importing it would run it with this runner's arguments.
 */
export async function simScenario(path: string): Promise<{ scenario?: Scenario; standalone: string }> {
  const source = await readFile(path, 'utf8');
  const exported = /^export\s+(?:async\s+)?function\s+(\w+)/m.exec(source)?.[1];
  const standalone = 'test/bench/sim.ts (kube-sim\'s own limits) exports nothing to run from here; run it alone: npx tsx test/bench/sim.ts';
  if (!exported) return { standalone };
  return {
    standalone,
    scenario: {
      name: 'sim',
      summary: "kube-sim's own limits (test/bench/sim.ts)",
      async run() {
        throw new Error(`test/bench/sim.ts now exports ${exported}(); wire its figures into rows in test/bench/scenarios/sim.ts`);
      },
    },
  };
}
