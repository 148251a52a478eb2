import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../support/redis.ts';
import { waitFor } from '../../support/wait.ts';

/** Processes whose environment names this demo's port. */
function demoProcesses(port: number): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`OLEADA_DEMO_PORT=${port}`)) {
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim()}`);
      }
    } catch {
      // gone already, or not ours to read
    }
  }
  return found;
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

/** The kubectl lines of the demo's closing "try:" block, exactly as printed. */
function kubectlLines(output: string): string[] {
  const start = output.indexOf('   try:');
  const block = output.slice(start, output.indexOf('   dashboard:', start));
  return block
    .split('\n')
    .map((line) => line.replace(/^ +(try: +)?/, ''))
    .filter((line) => /^\S*kubectl /.test(line));
}

/** Runs one printed line as a person would paste it into a shell, without a KUBECONFIG of their own. */
async function paste(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { KUBECONFIG: _ignored, ...env } = process.env;
  try {
    const { stdout, stderr } = await run('bash', ['-c', line], { cwd: root, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('scripts/demo.sh', () => {
  it('runs both rollouts to completion, tells what happened, and every kubectl line it prints works as printed', async () => {
    const port = await freePort();
    // Without --no-wait, as a person runs it: the demo stays up until Ctrl-C, so the lines it prints can be tried.
    const child = spawn('bash', ['scripts/demo.sh'], {
      cwd: root,
      env: { ...process.env, OLEADA_DEMO_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Even when the test times out, the demo (and the processes it started) must not outlive it.
    onTestFinished(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await Promise.race([
      waitFor('the demo to wait for Ctrl-C', () => output.includes('Ctrl-C stops everything'), 560_000),
      exited.then((code) => {
        throw new Error(`the demo exited (${code}) before it was up:\n${output}`);
      }),
    ]);
    expect(output).toMatch(/demo: a person approves wave europe/);
    expect(output).toMatch(/checkout 1\.1\.0: succeeded - 1\.1\.0 is promoted in every wave/);
    expect(output).toMatch(/checkout 1\.2\.0: rolled_back - rolled back: staging-eu failed: analysis failed: error-rate = 0\.\d+ \(max 0\.02\)/);
    // Plain, timestamped lines: the output of a run without a TTY, as in CI logs.
    expect(output).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}canary\/staging-eu +staging-eu: weight 20% reached/m);
    expect(output).toMatch(new RegExp(`Oleada is running at http://127\\.0\\.0\\.1:${port}`));
    expect(output).toMatch(new RegExp(`dashboard: http://127\\.0\\.0\\.1:${port}/ +\\(sign in: paste the token above into the Token field\\)`));

    // Every kubectl line the demo prints, pasted as printed: they name the kubectl v1.33 the demo installed.
    const lines = kubectlLines(output);
    expect(lines.map((line) => line.split(' ')[0])).toEqual([0, 1, 2].map(() => `${root}.oleada/tools/bin/kubectl`));
    const answers = [];
    for (const line of lines) answers.push({ line, ...(await paste(line)) });
    for (const answer of answers) expect(answer.code, `${answer.line}\n${answer.stderr}`).toBe(0);
    const [getDeployPods = '', history = '', describeSvc = ''] = answers.map((a) => a.stdout);
    // prod-eu-1 runs 1.1.0 on every pod after the first rollout, and kubectl prints them from the server's Table.
    expect(getDeployPods).toMatch(/^deployment\.apps\/checkout +4\/4 +4 +4 .*checkout:1\.1\.0/m);
    expect(getDeployPods.match(/^pod\/checkout-\S+ +1\/1 +Running /gm)).toHaveLength(4);
    // staging-eu's stable went from 1.0.0 to 1.1.0; 1.2.0 only ever ran as the canary, which the rollback deleted.
    expect(history).toMatch(/^REVISION +CHANGE-CAUSE/m);
    expect(history.match(/^\d+(?= )/gm)).toEqual(['1', '2']);
    // The Service has its pods as endpoints.
    expect(describeSvc).toMatch(/^Endpoints: +(\d+\.\d+\.\d+\.\d+:8080,?){3}/m);

    // Ctrl-C stops everything.
    child.kill('SIGINT');
    expect(await exited, output).toBe(130);
    expect(output).toMatch(/demo: everything is stopped\./);
    // And it is: no process the demo started (they all carry its port in their environment) outlives it.
    await waitFor('the demo processes to exit', () => demoProcesses(port).length === 0, 15_000).catch(() => {
      throw new Error(`the demo left processes running: ${demoProcesses(port).join(', ')}`);
    });
  }, 600_000);
});
