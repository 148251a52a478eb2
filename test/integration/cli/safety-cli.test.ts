/**
 * The CLI features that keep a CI job safe: --timeout's own exit code at a person-gate, `rollout wait`, diff's exit
 * codes, `get -o yaml` round-trip, history, and --if-revision. A real API and the real `oleada` binary; the tests move
 * rollouts through the store as the engine would (no tick worker runs).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { canaryAt, drive, finish } from '../api/support/drive.ts';
import { json, rolloutSpec, startHarness, TOKENS, type Harness } from '../api/support/harness.ts';
import { runOleada } from '../../support/processes.ts';

let api: Harness;
let dir: string;

beforeAll(async () => {
  api = await startHarness();
  dir = await mkdtemp(join(tmpdir(), 'oleada-safety-cli-'));
});
afterAll(async () => {
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

async function oleada(args: string[]): Promise<{ code: number | string; output: string }> {
  const child = runOleada(args, { OLEADA_URL: api.url, OLEADA_TOKEN: TOKENS.deployer.token });
  const code = await child.exited;
  return { code, output: child.output() };
}

async function create(spec: Record<string, unknown>): Promise<string> {
  const response = await api.request('/api/v1/rollouts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
  const body = await json(response);
  if (response.status !== 201) throw new Error(`create answered ${response.status}: ${body.detail}`);
  return body.id;
}

async function file(name: string, spec: Record<string, unknown>): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, stringify(spec));
  return path;
}

describe('a CLI that never hangs a CI job', () => {
  it('ends --wait --timeout with exit code 3 at an approval gate, saying it waits for a person and who may act', async () => {
    const id = await create(rolloutSpec({ app: 'gated' }));
    await drive(
      api.pool,
      id,
      (state) => {
        state.phase = 'awaiting_approval';
        state.reason = 'wave europe waits for approval';
        state.waveIndex = 1;
        state.waves[1]!.status = 'awaiting_approval';
      },
      [{ type: 'wave.awaiting_approval', message: 'wave europe waits for approval (oleada rollout approve)', wave: 'europe' }],
    );
    const started = Date.now();
    const { code, output } = await oleada(['rollout', 'wait', id, '--timeout', '3s']);
    expect(code, output).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(output).toMatch(/waiting for a person: wave europe needs approval\. Who may act: .*deployer or admin token allowed for app gated.*oleada rollout approve/);
    expect(output).toMatch(new RegExp(`timed out after 3s: rollout ${id} of gated .* is awaiting_approval, wave europe`));
  });

  it('attaches to a running rollout with `rollout wait ID` and exits 0 when it succeeds', async () => {
    const id = await create(rolloutSpec({ app: 'attached', waves: [{ name: 'canary', clusters: ['staging-eu'] }] }));
    await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 1, 10), [{ type: 'cluster.step', message: 'staging-eu at step 1 of 4' }]);
    const child = runOleada(['rollout', 'wait', id, '--timeout', '2m'], { OLEADA_URL: api.url, OLEADA_TOKEN: TOKENS.deployer.token });
    try {
      // Events from before it attached are shown first: the follower is on the stream once this line is out.
      await child.waitForLine(/staging-eu at step 1 of 4/);
      await drive(api.pool, id, (state) => finish(state, 'succeeded', 'every wave promoted'), [{ type: 'rollout.succeeded', message: 'done' }]);
      expect(await child.exited, child.output()).toBe(0);
      expect(child.output()).toContain('succeeded');
    } finally {
      await child.kill();
    }
  });

  it('refuses --timeout without --wait and a timeout that is not a duration', async () => {
    expect((await oleada(['rollout', 'create', '-f', 'x.yaml', '--timeout', '1m'])).code).toBe(2);
    const bad = await oleada(['rollout', 'wait', '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('--timeout must be a duration');
  });
});

describe('history as data from the CLI', () => {
  it('prints the rollout file with get -o yaml, and create -f takes it again', async () => {
    const id = await create(rolloutSpec({ app: 'roundtrip' }));
    const yaml = await oleada(['rollout', 'get', id, '-o', 'yaml']);
    expect(yaml.code, yaml.output).toBe(0);
    expect(yaml.output).toContain('app: roundtrip');
    await drive(api.pool, id, (state) => finish(state, 'succeeded', 'done'));
    const path = join(dir, 'roundtrip.yaml');
    await writeFile(path, yaml.output);
    const again = await oleada(['rollout', 'create', '-f', path, '-o', 'json']);
    expect(again.code, again.output).toBe(0);
    const second = JSON.parse(again.output);
    const first = await json(await api.request(`/api/v1/rollouts/${id}`));
    expect(second.spec).toEqual(first.spec);
  });

  it('exits 0 from diff when the file changes nothing, 1 naming what changed, and 2 for an invalid file', async () => {
    const base = rolloutSpec({ app: 'diffed' });
    const id = await create(base);
    await drive(api.pool, id, (state) => finish(state, 'succeeded', 'done'));
    const unchanged = await oleada(['rollout', 'diff', '-f', await file('same.yaml', base)]);
    expect(unchanged.code, unchanged.output).toBe(0);
    expect(unchanged.output).toContain('no changes');

    const changed = await oleada([
      'rollout',
      'diff',
      '-f',
      await file('changed.yaml', {
        ...base,
        image: 'registry.example.com/checkout:2.4.0',
        waves: [{ name: 'canary', clusters: ['staging-eu', 'prod-eu-1'] }, { name: 'americas', selector: { region: 'us' } }],
        analysis: { interval: '30s', metrics: [{ name: 'error-rate', query: 'sum(rate(errors{app="{{app}}"}[{{window}}]))', max: 0.05 }] },
      }),
    ]);
    expect(changed.code, changed.output).toBe(1);
    expect(changed.output).toContain('~ image registry.example.com/checkout:2.3.1 -> registry.example.com/checkout:2.4.0');
    expect(changed.output).toContain('+ wave canary: cluster prod-eu-1');
    expect(changed.output).toContain('- wave europe: prod-eu-1');
    expect(changed.output).toContain('~ metric error-rate: query changed');
    expect(changed.output).toContain('~ metric error-rate (max 0.01) -> error-rate (max 0.05)');

    const invalid = await oleada(['rollout', 'diff', '-f', await file('invalid.yaml', { ...base, waves: 'all' })]);
    expect(invalid.code, invalid.output).toBe(2);
  });

  it('lists the history with revision, version, outcome, who started each and when', async () => {
    const history = await oleada(['rollout', 'history', 'diffed']);
    expect(history.code, history.output).toBe(0);
    expect(history.output).toMatch(/REVISION\s+VERSION\s+OUTCOME\s+STARTED BY\s+STARTED/);
    expect(history.output).toMatch(/^1\s+2\.3\.1\s+succeeded\s+admin\s+/m);
  });

  it('refuses a command with --if-revision when the rollout has moved on, and says where it is now', async () => {
    const id = await create(rolloutSpec({ app: 'revised' }));
    const revision = await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 1, 10));
    await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 2, 10));
    const stale = await oleada(['rollout', 'pause', id, '--if-revision', String(revision)]);
    expect(stale.code).toBe(2);
    expect(stale.output).toMatch(new RegExp(`is at revision ${revision + 1} \\(progressing\\), not ${revision}`));
    const fresh = await oleada(['rollout', 'pause', id, '--if-revision', String(revision + 1)]);
    expect(fresh.code, fresh.output).toBe(0);
  });
});
