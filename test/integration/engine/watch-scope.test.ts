import { readFile, rename, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { appWrites, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

describe('the engine on cluster-wide watches (watch.scope: cluster in the clusters file)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'] });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('finishes a rollout reading from one cluster-wide watch per kind, each step written once', async () => {
    // The clusters file is reloaded while running: each cluster gets a new client whose caches watch cluster-wide.
    const file = stack.sim.clustersFilePath!;
    const document = parse(await readFile(file, 'utf8')) as { clusters: Record<string, unknown>[] };
    for (const entry of document.clusters) entry.watch = { scope: 'cluster' };
    await writeFile(`${file}.tmp`, stringify(document));
    await rename(`${file}.tmp`, file);
    await stack.waitFor('the reload', async () => stack.clusters.every((c) => stack.runtime.clusters.get(c).entry.watch.scope === 'cluster'));

    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack), actor: 'ci' });
    const [first] = stack.clusters as [string];
    await stack.waitFor('the first canary step', async () => (await stack.get(rollout.id)).state.clusters[first]!.step >= 1);
    // kube-sim serves a Deployment watch without a namespace, and none in the rollout's namespace.
    const deploymentWatches = () => stack.sim.cluster(first).faults.openWatches().filter((w) => w.resource === 'deployments.apps');
    await stack.waitFor('the cluster-wide Deployment watch', async () => deploymentWatches().some((w) => w.namespace === undefined));
    expect(deploymentWatches().filter((w) => w.namespace !== undefined)).toEqual([]);

    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 120_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    for (const cluster of stack.clusters) {
      expect(appWrites(stack, cluster)).toEqual(['PATCH canary', 'PATCH canary', 'PATCH stable', 'DELETE canary']);
    }
  });
});
