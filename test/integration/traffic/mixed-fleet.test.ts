/**
 * One rollout across a fleet whose clusters move traffic three different ways, as the clusters file says: staging by
 * pod counts (replicas), Europe through a Gateway API HTTPRoute, America through an Istio VirtualService. The plan
 * (API and CLI) shows each cluster's provider, and the rollout succeeds with each provider doing its own work.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { OLEADA_BIN, spawnNode } from '../../support/processes.ts';
import { deploymentImage, rolloutFile, serveDeployerApi, startStack, type Stack } from '../../support/stack.ts';
import { routeThroughMesh, virtualService } from './istio-support.ts';
import { routeSpec, routeThroughGateway } from './support.ts';

const TOKEN = 'mixed-fleet-deployer-token-0123456789';
const TRAFFIC = { service: 'checkout', httpRoute: 'checkout', virtualService: 'checkout' };

describe('a fleet with three traffic providers', () => {
  let stack: Stack;
  let api: { app: FastifyInstance; url: string };
  let staging: string, europe: string, america: string;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1', 'prod-us-1'], traffic: { 'prod-eu-1': 'gateway-api', 'prod-us-1': 'istio' }, trafficRate: 100 });
    [staging, europe, america] = stack.clusters as [string, string, string];
    await routeThroughGateway(stack, europe);
    await routeThroughMesh(stack, america);
    api = await serveDeployerApi(stack, TOKEN);
  });
  afterAll(async () => {
    await api?.app.close();
    await stack?.close();
  });

  const plan = (body: object) =>
    fetch(`${api.url}/api/v1/rollouts:plan`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('plans each cluster with the provider its clusters-file entry names, in the API and the CLI, and asks for a missing name', async () => {
    const response = await plan(rolloutFile(stack, { traffic: TRAFFIC }));
    expect(response.status).toBe(200);
    const preview = (await response.json()) as { plan: { traffic: { providers: Record<string, string> } } };
    expect(preview.plan.traffic.providers).toEqual({ [staging]: 'replicas', [europe]: 'gateway-api', [america]: 'istio' });

    const file = join(stack.dir, 'mixed-fleet.json');
    await writeFile(file, JSON.stringify(rolloutFile(stack, { traffic: TRAFFIC })));
    const cli = spawnNode([OLEADA_BIN, 'rollout', 'plan', '-f', file], { OLEADA_URL: api.url, OLEADA_TOKEN: TOKEN });
    expect(await cli.exited, cli.output()).toBe(0);
    for (const [cluster, kind] of [[staging, 'replicas'], [europe, 'gateway-api'], [america, 'istio']]) expect(cli.output()).toContain(`${cluster} [${kind}]`);

    const missing = await plan(rolloutFile(stack, { traffic: { service: 'checkout', httpRoute: 'checkout' } }));
    expect(missing.status).toBe(422);
    const problem = (await missing.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors).toContainEqual({ path: '/traffic/virtualService', message: expect.stringMatching(new RegExp(`^is required by ${america} \\(istio\\): add traffic.virtualService with the name of `)) });
  });

  it('rolls one version out across all three, each cluster moving its traffic its own way, and gives the routes back', async () => {
    const routeBefore = JSON.stringify(routeSpec(stack, europe));
    const vsBefore = JSON.stringify(virtualService(stack, america).spec);
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack, { traffic: TRAFFIC, image: 'registry.example.com/checkout:1.1.0' }), actor: 'ci' });

    // Staging: a canary Deployment sized by pods, no Services or routes of Oleada's.
    await stack.waitFor('the staging canary', async () => deploymentImage(stack, staging, 'checkout-canary') === 'registry.example.com/checkout:1.1.0');
    expect(stack.sim.cluster(staging).get('services', 'shop', 'checkout-canary')).toBeUndefined();
    // Europe: the HTTPRoute's backendRefs carry the weight.
    const refs = await stack.waitFor('the HTTPRoute to carry the canary', async () => {
      const rules = (routeSpec(stack, europe) as { rules: { backendRefs: { name: string; weight?: number }[] }[] }).rules;
      const split = rules[0]!.backendRefs;
      return split.some((ref) => ref.name === 'checkout-canary' && (ref.weight ?? 0) > 0) ? split : undefined;
    });
    expect(refs.map((ref) => ref.name)).toEqual(['checkout-stable', 'checkout-canary']);
    // America: the VirtualService's http route weights carry it.
    const route = await stack.waitFor('the VirtualService to carry the canary', async () => {
      const split = virtualService(stack, america).spec!.http[0]!.route;
      return split.some((r) => r.destination.host.startsWith('checkout-canary.') && (r.weight ?? 0) > 0) ? split : undefined;
    });
    expect(route.map((r) => r.destination.host.split('.')[0])).toEqual(['checkout-stable', 'checkout-canary']);

    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 120_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    for (const cluster of stack.clusters) {
      expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.1.0');
      expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
      expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-stable')).toBeUndefined();
    }
    expect(JSON.stringify(routeSpec(stack, europe))).toBe(routeBefore);
    expect(JSON.stringify(virtualService(stack, america).spec)).toBe(vsBefore);
  });
});
