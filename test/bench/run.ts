/**
 * Oleada's benchmarks: `npm run bench` runs every scenario, `npm run bench -- rollback command` runs some, `--quick`
 * runs every scenario at a size that finishes in under 3 minutes. Prints one table (stdout) and writes the same figures
 * to bench-results.json. Progress goes to stderr. Exit code 1 when a scenario could not run; a missed target is a FAIL
 * row, not an error.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { busyProcesses, describeMachine, machineText, round2 } from './lib/machine.ts';
import { stopAllChildren } from './lib/process.ts';
import { formatTable, writeResults, type Results, type ScenarioResult } from './lib/report.ts';
import { parseSizes, type BenchContext, type Scenario, type SizeArg } from './lib/scenario.ts';
import { REPO_ROOT, startServices } from './lib/services.ts';

const SIM_BENCH = fileURLToPath(new URL('./sim.ts', import.meta.url));

/** Said once per run when kube-sim's benchmark stays outside the runner. */
let simNote: string | undefined;

/** Every scenario, in the order a full run takes them: the quick ones first. */
async function loadScenarios(): Promise<Scenario[]> {
  const [{ judgeScenario }, { rollbackScenario }, { commandScenario }, { scaleScenario }, { pollScenario }, { dashboardScenario }, { slackScenario }, { notifyScenario }, { followersScenario }, { trafficScenario }] =
    await Promise.all([
      import('./scenarios/judge.ts'),
      import('./scenarios/rollback.ts'),
      import('./scenarios/command.ts'),
      import('./scenarios/scale.ts'),
      import('./scenarios/poll.ts'),
      import('./scenarios/dashboard.ts'),
      import('./scenarios/slack.ts'),
      import('./scenarios/notify.ts'),
      import('./scenarios/followers.ts'),
      import('./scenarios/traffic.ts'),
    ]);
  const list = [judgeScenario, rollbackScenario, commandScenario, trafficScenario, slackScenario, pollScenario, dashboardScenario, followersScenario, notifyScenario, scaleScenario];
  // kube-sim's own benchmark belongs to kube-sim; it joins the run when it exists and exports something runnable.
  if (existsSync(SIM_BENCH)) {
    const { simScenario } = await import('./scenarios/sim.ts');
    const sim = await simScenario(SIM_BENCH);
    if (sim.scenario) list.push(sim.scenario);
    else simNote = sim.standalone;
  }
  return list;
}

function usage(scenarios: Scenario[]): string {
  return [
    'Usage: npm run bench -- [--quick] [--out FILE] [scenario...]',
    '',
    'Scenarios (default: all):',
    ...scenarios.map((s) => `  ${s.name.padEnd(10)} ${s.summary}`),
    '',
    '  --quick     smaller sizes: the whole run takes under 3 minutes',
    '  --out FILE  where to write the JSON results (default bench-results.json)',
    '  --sizes A,B the scale scenario\'s numbers of rollouts (default 100,500,1000; quick: 100); N@60s runs N at a',
    '              60 s cadence (production\'s), e.g. --sizes 5000@60s runs only the N = 5,000 row',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const scenarios = await loadScenarios();
  let quick = false;
  let out = join(REPO_ROOT, 'bench-results.json');
  let sizes: SizeArg[] | undefined;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--out') out = argv[++i] ?? out;
    else if (arg === '--sizes') {
      const parsed = parseSizes(argv[++i] ?? '');
      if (typeof parsed === 'string') {
        console.error(`${parsed}\n\n${usage(scenarios)}`);
        return 2;
      }
      sizes = parsed;
    }
    else if (arg === '--help' || arg === '-h') {
      console.log(usage(scenarios));
      return 0;
    } else if (arg.startsWith('-')) {
      console.error(`unknown option ${arg}\n\n${usage(scenarios)}`);
      return 2;
    } else names.push(arg);
  }
  const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')} (known: ${scenarios.map((s) => s.name).join(', ')})`);
    return 2;
  }
  const selected = names.length === 0 ? scenarios : scenarios.filter((s) => names.includes(s.name));

  const machine = describeMachine();
  machine.busyAtStart = await busyProcesses(1_000);
  console.log(machineText(machine));
  if (machine.loadAtStart[0]! > machine.cores * 0.5) {
    console.log(`note: the 1-minute load average (${machine.loadAtStart[0]}) is above half the cores; other work competes with these figures`);
  }
  const services = await startServices();
  console.log(`services: Redis ${services.redisUrl}, PostgreSQL ${new URL(services.databaseUrl).host}, Prometheus ${services.prometheusUrl} scraping every ${services.scrapeIntervalMs} ms`);
  console.log(`mode: ${quick ? 'quick' : 'full'}; scenarios: ${selected.map((s) => s.name).join(', ')}`);
  if (simNote) console.log(`note: ${simNote}`);
  console.log('');

  const dir = await mkdtemp(join(tmpdir(), 'oleada-bench-'));
  const results: Results = { machine, startedAt: new Date().toISOString(), finishedAt: '', quick, scenarios: [] };
  let failed = false;
  try {
    for (const scenario of selected) {
      const started = Date.now();
      const cleanups: (() => Promise<unknown> | unknown)[] = [];
      const ctx: BenchContext = {
        services,
        quick,
        ...(sizes && sizes.length > 0 && { sizes }),
        dir,
        log: (message) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`),
        defer: (fn) => cleanups.push(fn),
      };
      ctx.log(`${scenario.name}: starting (load ${loadavg().map(round2).join(' ')})`);
      const result: ScenarioResult = { name: scenario.name, rows: [], details: {}, seconds: 0 };
      try {
        const output = await scenario.run(ctx);
        result.rows = output.rows;
        result.details = output.details;
      } catch (err) {
        failed = true;
        result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        ctx.log(`${scenario.name}: FAILED: ${result.error}`);
      } finally {
        for (const cleanup of cleanups.reverse()) {
          try {
            await cleanup();
          } catch (err) {
            ctx.log(`${scenario.name}: cleanup failed: ${String(err)}`);
          }
        }
      }
      result.seconds = Math.round((Date.now() - started) / 100) / 10;
      (result.details as Record<string, unknown>).loadAfter = loadavg().map(round2);
      ctx.log(`${scenario.name}: done in ${result.seconds} s`);
      results.scenarios.push(result);
    }
  } finally {
    await stopAllChildren();
    await rm(dir, { recursive: true, force: true });
  }

  machine.loadAtEnd = loadavg().map(round2);
  results.finishedAt = new Date().toISOString();
  const rows = results.scenarios.flatMap((s) => s.rows);
  console.log(formatTable(rows));
  for (const r of rows.filter((r) => r.note)) console.log(`  ${r.scenario} / ${r.figure}: ${r.note}`);
  for (const s of results.scenarios.filter((s) => s.error)) console.log(`\n${s.name} could not finish: ${s.error?.split('\n')[0]}`);
  const missed = rows.filter((r) => r.pass === false);
  console.log(`\n${rows.filter((r) => r.pass === true).length} targets met, ${missed.length} missed${missed.length ? `: ${missed.map((r) => `${r.scenario} / ${r.figure}`).join('; ')}` : ''}`);
  console.log(machineText(machine));
  await writeResults(out, results);
  console.log(`results written to ${out}`);
  return failed ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAllChildren().finally(() => process.exit(130));
  });
}
process.exitCode = await main(process.argv.slice(2));
