import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseClustersFile, toClusterInfo } from '../../../src/clusters/file.ts';
import { parseRolloutSpec } from '../../../src/spec/parse.ts';
import { renderPlanQueries, resolvePlan, shortestDurationMs } from '../../../src/spec/plan.ts';

const example = (name: string) => fileURLToPath(new URL(`../../../deploy/examples/${name}`, import.meta.url));

describe('deploy/examples', () => {
  it('has a rollout file that resolves against the example clusters file', async () => {
    const clustersFile = example('clusters.yaml');
    const clusters = parseClustersFile(await readFile(clustersFile, 'utf8'), clustersFile);
    expect(clusters.map((cluster) => cluster.name)).toEqual(['staging-eu', 'prod-eu-1', 'prod-us-1']);
    expect(clusters[0]!.kubeconfig).toBe(fileURLToPath(new URL('../../../deploy/examples/kubeconfigs/staging-eu.yaml', import.meta.url)));

    const parsed = parseRolloutSpec(await readFile(example('rollout.yaml'), 'utf8'));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const resolved = resolvePlan(parsed.spec, clusters.map(toClusterInfo));
    if (!resolved.ok) throw new Error(JSON.stringify(resolved.errors));
    expect(resolved.plan.waves.map((wave) => [wave.name, wave.clusters])).toEqual([
      ['canary', ['staging-eu']],
      ['europe', ['prod-eu-1']],
      ['americas', ['prod-us-1']],
    ]);
    expect(shortestDurationMs(resolved.plan)).toBe(3 * 180_000 + 600_000);
    expect(renderPlanQueries(resolved.plan, clusters.map(toClusterInfo))).toHaveLength(3);
  });
});
