import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { row, type Comparison, type Row } from '../lib/report.ts';
import type { Scenario } from '../lib/scenario.ts';

/** What test/bench/sim.ts's runSimBenchmark returns (that file is kube-sim's; this mirrors its types). */
interface SimFigure {
  name: string;
  value: number;
  unit: string;
  /** `>= 2000`, `< 500`, or `-` when the figure has no target. */
  target: string;
  pass: boolean;
}

type RunSimBenchmark = (options: { quick?: boolean }) => Promise<{ quick: boolean; figures: SimFigure[] }>;

function toRow(figure: SimFigure): Row {
  const match = /^\s*(<=|>=|<|>)\s*([\d.,]+)\s*$/.exec(figure.target);
  const base = { scenario: 'sim', figure: figure.name.trim(), value: figure.value, unit: figure.unit };
  if (!match) {
    // A target this runner cannot read is shown as kube-sim's benchmark judged it.
    return figure.target.trim() === '-' ? row(base) : { ...row(base), pass: figure.pass, note: `target ${figure.target}` };
  }
  return row({ ...base, target: { op: match[1] as Comparison, value: Number(match[2]!.replaceAll(',', '')) } });
}

/**
 * kube-sim's own benchmark (test/bench/sim.ts, written by kube-sim's engineer) joins this runner as the scenario `sim`
 * when it exports runSimBenchmark. The check reads its source first: an older version did its work at the top level,
 * and importing that would have run it with this runner's arguments.
 */
export async function simScenario(path: string): Promise<{ scenario?: Scenario; standalone: string }> {
  const source = await readFile(path, 'utf8');
  const standalone = "test/bench/sim.ts (kube-sim's own limits) exports no runSimBenchmark; run it alone: npx tsx test/bench/sim.ts";
  if (!/^export\s+async\s+function\s+runSimBenchmark\b/m.test(source)) return { standalone };
  return {
    standalone,
    scenario: {
      name: 'sim',
      summary: "kube-sim's own limits (test/bench/sim.ts): GETs per second on one core, RSS with 1,000 deployments",
      async run(ctx) {
        const { runSimBenchmark } = (await import(pathToFileURL(path).href)) as { runSimBenchmark: RunSimBenchmark };
        ctx.log('sim: running test/bench/sim.ts');
        const result = await runSimBenchmark({ quick: ctx.quick });
        const rows = result.figures.map(toRow);
        if (result.quick) {
          for (const r of rows.filter((x) => x.target)) r.note = 'quick sizes: test/bench/sim.ts measures less than its target is stated for';
        }
        return { rows, details: { figures: result.figures } };
      },
    },
  };
}
