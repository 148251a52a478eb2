/**
 * A retried promote with the same Idempotency-Key moves a cluster one step, not two: the API over HTTP, the real
 * engine, a kube-sim cluster and Prometheus.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutFile, serveDeployerApi, startStack, type Stack } from '../../support/stack.ts';

const TOKEN = 'retry-deployer-token-0123456789';

let stack: Stack;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  stack = await startStack({ clusters: ['staging-eu'] });
  ({ app, url } = await serveDeployerApi(stack, TOKEN));
});
afterAll(async () => {
  await app?.close();
  await stack?.close();
});

const promote = (id: string, key: string) =>
  fetch(`${url}/api/v1/rollouts/${id}/promote`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ reason: 'looks good' }),
  });

describe('a promote retried with the same key', () => {
  it('moves the cluster past one untimed pause only, however often it is sent', async () => {
    const [cluster] = stack.clusters as [string];
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }] }),
      actor: 'ci',
    });
    const waitingAt = (step: number) =>
      stack.waitFor(`${cluster} waiting for promote at step ${step}`, async () => {
        const c = (await stack.get(rollout.id)).state.clusters[cluster]!;
        return c.awaitingPromote && c.step === step ? c : undefined;
      });
    await waitingAt(1);
    const answers = await Promise.all([promote(rollout.id, 'once'), promote(rollout.id, 'once')]);
    for (const answer of answers) await answer.arrayBuffer();
    const again = await promote(rollout.id, 'once');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await again.arrayBuffer();

    await waitingAt(3);
    const { rows } = await stack.runtime.pool.query(`SELECT outcome FROM commands WHERE rollout_id = $1 AND type = 'promote'`, [rollout.id]);
    expect(rows).toEqual([{ outcome: 'applied' }]);
    // Still waiting at the second pause: no stray promote ended it.
    const state = (await stack.get(rollout.id)).state.clusters[cluster]!;
    expect(state).toMatchObject({ step: 3, awaitingPromote: true, phase: 'canary' });
    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'abort', args: {}, reason: 'test done', actor: 'ci' });
    await stack.waitForPhase(rollout.id, ['aborted']);
  });
});
