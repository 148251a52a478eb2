import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

describe('scripts/demo.sh', () => {
  it('runs both rollouts to completion and tells what happened', async () => {
    const port = await freePort();
    const child = spawn('bash', ['scripts/demo.sh', '--no-wait'], {
      cwd: root,
      env: { ...process.env, OLEADA_DEMO_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Even when the test times out, the demo (and the processes it started) must not outlive it.
    onTestFinished(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);
    expect(output).toMatch(/demo: a person approves wave europe/);
    expect(output).toMatch(/checkout 1\.1\.0: succeeded - 1\.1\.0 is promoted in every wave/);
    expect(output).toMatch(/checkout 1\.2\.0: rolled_back - rolled back: staging-eu failed: analysis failed: error-rate = 0\.\d+ \(max 0\.02\)/);
    // Plain, timestamped lines: the output of a run without a TTY, as in CI logs.
    expect(output).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}canary\/staging-eu +staging-eu: weight 20% reached/m);
    expect(output).toMatch(new RegExp(`Oleada is running at http://127\\.0\\.0\\.1:${port}`));
    expect(output).toMatch(new RegExp(`dashboard: http://127\\.0\\.0\\.1:${port}/ +\\(sign in: paste the token above into the Token field\\)`));
    expect(output).toMatch(/demo: everything is stopped\./);
    // And it is: no process the demo started (they all carry its port in their environment) outlives it.
    await waitFor('the demo processes to exit', () => demoProcesses(port).length === 0, 15_000).catch(() => {
      throw new Error(`the demo left processes running: ${demoProcesses(port).join(', ')}`);
    });
  }, 600_000);
});
