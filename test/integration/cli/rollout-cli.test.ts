/**
 * The `oleada` CLI run as a child process against a real API. No tick worker runs here: the tests move the rollout
 * through the store while the CLI follows it, as the engine would.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { canaryAt, drive, finish } from '../api/support/drive.ts';
import { rolloutSpec, startHarness, TOKENS, type Harness } from '../api/support/harness.ts';
import type { TestDatabase } from '../../support/services.ts';

const BIN = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));

let api: Harness;
let dir: string;

beforeAll(async () => {
  api = await startHarness();
  dir = await mkdtemp(join(tmpdir(), 'oleada-cli-'));
});
afterAll(async () => {
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Child {
  /** Resolves with the exit code and output once the process has exited. */
  done: Promise<Run>;
  /** Resolves once stdout contains `text`; rejects at the deadline. */
  stdoutIncludes(text: string | RegExp, timeoutMs?: number): Promise<string>;
}

const SCRIPT = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path));

/** Runs oleada with `tty: true` under util-linux `script`, which gives it a pseudo-terminal as stdout. */
function oleada(args: string[], env: Record<string, string> = {}, tty = false): Child {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  if (tty && !SCRIPT) throw new Error('util-linux `script` is missing: install the Debian package bsdutils (scripts/setup.sh --test does)');
  const [file, argv] = tty ? [SCRIPT!, ['-qefc', command, '/dev/null']] : [process.execPath, [BIN, ...args]];
  const child = spawn(file, argv, {
    env: { PATH: process.env.PATH, OLEADA_URL: api.url, OLEADA_TOKEN: TOKENS.deployer.token, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    for (const l of listeners) l();
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  let exited = false;
  void done.then(() => {
    exited = true;
    for (const l of listeners) l();
  });
  return {
    done,
    async stdoutIncludes(text, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const found = () => (typeof text === 'string' ? stdout.includes(text) : text.test(stdout));
      while (!found()) {
        if (exited) throw new Error(`oleada exited before printing ${text}; stdout: ${stdout}; stderr: ${stderr}`);
        if (Date.now() > deadline) {
          child.kill();
          throw new Error(`oleada did not print ${text} within ${timeoutMs} ms; stdout: ${stdout}`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 200);
          listeners.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        listeners.clear();
      }
      return stdout;
    },
  };
}

async function rolloutFile(app: string, ext = 'yaml'): Promise<string> {
  const path = join(dir, `${app}.${ext}`);
  const spec = rolloutSpec({ app });
  await writeFile(path, ext === 'json' ? JSON.stringify(spec) : stringify(spec));
  return path;
}

async function idOf(app: string): Promise<string> {
  // The CLI starts as a child process and compiles its TypeScript first: allow for a busy machine.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await api.pool.query('SELECT id FROM rollouts WHERE app = $1 ORDER BY created_at DESC LIMIT 1', [app]);
    if (rows[0]) return rows[0].id;
    if (Date.now() > deadline) throw new Error(`no rollout of ${app} was created`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('oleada rollout create --wait', () => {
  it('prints a plain timestamped line per event without a TTY and exits 0 when the rollout succeeds', async () => {
    const run = oleada(['rollout', 'create', '-f', await rolloutFile('cli-good'), '--wait']);
    await run.stdoutIncludes('following it to the end');
    const id = await idOf('cli-good');
    await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 0, 10), [
      { type: 'rollout_started', message: 'rollout started' },
      { type: 'weight_set', message: 'staging-eu at 10% (1 of 5 pods)', wave: 'canary', cluster: 'staging-eu' },
    ]);
    await run.stdoutIncludes('staging-eu at 10%');
    await drive(api.pool, id, (s) => finish(s, 'succeeded', 'every wave succeeded'), [
      { type: 'wave_approved', message: 'wave europe approved', wave: 'europe', actor: 'alice' },
      { type: 'rollout_succeeded', message: 'rollout succeeded' },
    ]);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^rollout ${id} of cli-good 2\\.3\\.1; following it to the end$`));
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}-\s+ {2}rollout started$/);
    expect(lines[2]).toMatch(/^\S+Z {2}canary\/staging-eu\s+ {2}staging-eu at 10% \(1 of 5 pods\)$/);
    expect(lines[3]).toMatch(/ {2}europe\s+ {2}wave europe approved \(by alice\)$/);
    expect(lines.at(-1)).toBe('cli-good 2.3.1: succeeded - every wave succeeded');
    expect(result.stdout).not.toContain('\x1b[');
  });

  it('exits 1 when the rollout is rolled back', async () => {
    const run = oleada(['rollout', 'create', '-f', await rolloutFile('cli-bad'), '--wait']);
    await run.stdoutIncludes('following it to the end');
    const id = await idOf('cli-bad');
    await drive(api.pool, id, (s) => finish(s, 'rolled_back', 'error-rate failed in staging-eu'), [
      { type: 'analysis_failed', message: 'error-rate 0.31 > 0.01', wave: 'canary', cluster: 'staging-eu' },
      { type: 'rollout_rolled_back', message: 'rolled back' },
    ]);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('error-rate 0.31 > 0.01');
    expect(result.stdout.trim().split('\n').at(-1)).toBe('cli-bad 2.3.1: rolled_back - error-rate failed in staging-eu');
  });

  it('prints JSON lines with --output json: every event, then the final status', async () => {
    const run = oleada(['rollout', 'create', '-f', await rolloutFile('cli-json', 'json'), '--wait', '--output', 'json', '--idempotency-key', 'job-7']);
    const id = await idOf('cli-json');
    await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 0, 10), [{ type: 'rollout_started', message: 'started' }]);
    await run.stdoutIncludes('"seq":1');
    await drive(api.pool, id, (s) => finish(s, 'aborted', 'aborted by deployer'), [{ type: 'rollout_aborted', message: 'aborted' }]);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(1);
    const objects = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(objects.map((o) => o.seq ?? o.phase)).toEqual([1, 2, 'aborted']);
    expect(objects.at(-1)).toMatchObject({ id, app: 'cli-json', phase: 'aborted' });
  });

  it('keeps following across an API restart, resuming after the last event it printed', async () => {
    const database = (api as unknown as { database: TestDatabase }).database;
    const first = await startHarness({ database });
    const run = oleada(['rollout', 'create', '-f', await rolloutFile('cli-restart'), '--wait'], { OLEADA_URL: first.url });
    let second: Harness | undefined;
    try {
      await run.stdoutIncludes('following it to the end');
      const id = await idOf('cli-restart');
      await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 0, 10), [{ type: 'e', message: 'first event' }]);
      await run.stdoutIncludes('first event');
      // The API goes away (its stream with it), an event is written meanwhile, and an API comes back on the same port.
      await first.app.close();
      await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 1, 50), [{ type: 'e', message: 'second event' }]);
      second = await startHarness({ database, port: Number(new URL(first.url).port) });
      await run.stdoutIncludes('second event');
      await drive(api.pool, id, (s) => finish(s, 'succeeded', 'done'), [{ type: 'e', message: 'third event' }]);
      const result = await run.done;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/connection to the event stream lost .*reconnecting/);
      for (const message of ['first event', 'second event', 'third event']) {
        expect(result.stdout.split(message).length - 1, message).toBe(1);
      }
    } finally {
      await second?.close();
      await first.close();
    }
  });
});

describe('on a terminal', () => {
  it('redraws a live view per wave and cluster in place, then prints the outcome', async () => {
    const run = oleada(['rollout', 'create', '-f', await rolloutFile('cli-tty'), '--wait'], {}, true);
    await run.stdoutIncludes('following it to the end');
    const id = await idOf('cli-tty');
    await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 1, 50), [{ type: 'weight_set', message: 'staging-eu at 50%', wave: 'canary', cluster: 'staging-eu' }]);
    await run.stdoutIncludes(/staging-eu\s+canary step 2\/4, 50%/);
    await drive(api.pool, id, (s) => finish(s, 'succeeded', 'every wave succeeded'), [{ type: 'done', message: 'rollout succeeded' }]);
    const result = await run.done;
    expect(result.code, result.stdout).toBe(0);
    // Each new frame moves the cursor up over the previous one and clears below it.
    const ESC = String.fromCharCode(27);
    expect(result.stdout).toMatch(new RegExp(`${ESC}\\[\\d+F${ESC}\\[0J`));
    expect(result.stdout).toContain('cli-tty 2.3.1 - progressing, wave 1/3 canary');
    expect(result.stdout).toMatch(/staging-eu\s+promoted, 100%/);
    expect(result.stdout.trim().split(/\r?\n/).at(-1)).toBe('cli-tty 2.3.1: succeeded - every wave succeeded');
  });
});

describe('other rollout commands', () => {
  it('gets, lists, commands and prints events', async () => {
    const create = await oleada(['rollout', 'create', '-f', await rolloutFile('cli-misc')]).done;
    expect(create.code, create.stderr).toBe(0);
    const id = await idOf('cli-misc');
    await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 1, 50), [{ type: 'weight_set', message: 'staging-eu at 50%', cluster: 'staging-eu', wave: 'canary' }]);

    const get = await oleada(['rollout', 'get', id]).done;
    expect(get.code).toBe(0);
    expect(get.stdout).toContain('phase     progressing');
    expect(get.stdout).toMatch(/staging-eu\s+canary step 2\/4, 50%/);

    const json = await oleada(['rollout', 'get', id, '-o', 'json']).done;
    expect(JSON.parse(json.stdout)).toMatchObject({ id, phase: 'progressing' });

    const list = await oleada(['rollout', 'list', '--app', 'cli-misc']).done;
    expect(list.stdout).toContain(id);

    const pause = await oleada(['rollout', 'pause', id, '--reason', 'checking dashboards']).done;
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toContain(`pause accepted for ${id}`);

    const events = await oleada(['rollout', 'events', id]).done;
    expect(events.stdout).toMatch(/canary\/staging-eu\s+ staging-eu at 50%/);

    const plan = await oleada(['rollout', 'plan', '-f', await rolloutFile('cli-plan')], { OLEADA_TOKEN: TOKENS.viewer.token }).done;
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('wave 2 europe: prod-eu-1 [replicas] (approval first)');
    expect(plan.stdout).toContain('steps: 10% -> pause 1m -> 50% -> pause until promoted');
  });
});

describe('exit code 2', () => {
  it('for a usage error', async () => {
    const result = await oleada(['rollout', 'get']).done;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('get needs the rollout id');
    expect((await oleada(['rollout', 'get', 'x', '--wait']).done).code).toBe(2);
  });

  it('for an API error, printing the problem detail and the field errors', async () => {
    const path = join(dir, 'broken.yaml');
    await writeFile(path, 'app: Broken App\nnamespace: shop\n');
    const result = await oleada(['rollout', 'create', '-f', path, '--wait']).done;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: the rollout file is invalid/);
    expect(result.stderr).toMatch(/\(422 spec_invalid\)/);
    expect(result.stderr).toMatch(/\n {2}\/app: /);
  });

  it('for a refused token and for an unreachable API', async () => {
    const denied = await oleada(['rollout', 'list'], { OLEADA_TOKEN: 'nope' }).done;
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain('401 invalid_token');
    const unreachable = await oleada(['rollout', 'list'], { OLEADA_URL: 'http://127.0.0.1:9' }).done;
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach the Oleada API at http://127.0.0.1:9');
  });
});
