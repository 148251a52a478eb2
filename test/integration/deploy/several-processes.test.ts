import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../src/api/auth/tokens.ts';
import { defaultSeed } from '../../../src/sim/index.ts';
import { runOleada, type Child } from '../../support/processes.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../support/round-robin-proxy.ts';
import { deploymentImage, startStack, type Stack } from '../../support/stack.ts';

const APPS = Array.from({ length: 10 }, (_, i) => `app${i}`);
const TOKEN = 'several-processes-deployer-token';

/** kube-sim's shop/checkout seed, once per app (the namespace once). */
function seedApps(): object[] {
  const [namespace, ...objects] = defaultSeed();
  return [namespace!, ...APPS.flatMap((app) => JSON.parse(JSON.stringify(objects).replaceAll('checkout', app)) as object[])];
}

interface Status {
  id: string;
  phase: string;
  revision: number;
  clusters: { name: string; awaitingPromote: boolean }[];
}

describe('several processes: two APIs behind one address and two workers', () => {
  let stack: Stack;
  let proxy: RoundRobinProxy;
  const children: Child[] = [];
  const apis: string[] = [];

  const call = (url: string, path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'], engine: false, seed: seedApps() });
    const tokensFile = join(stack.dir, 'tokens.yaml');
    await writeFile(tokensFile, `tokens:\n  - { name: pipeline, sha256: ${hashToken(TOKEN).toString('hex')}, role: deployer }\n`);
    const env = { ...stack.env, OLEADA_LOG_LEVEL: 'warn', OLEADA_TOKENS_FILE: tokensFile, OLEADA_PORT: '0' };
    for (const command of ['worker', 'worker', 'api', 'api']) children.push(runOleada([command], env));
    for (const child of children.slice(0, 2)) await child.waitForLine(/oleada engine running/);
    for (const child of children.slice(2)) apis.push((await child.waitForLine(/oleada api listening on (http:\/\/\S+)/))[1]!);
    proxy = await startRoundRobinProxy(apis);
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all(children.map((child) => child.kill()));
    await stack?.close();
  });

  it('runs ten rollouts to completion with commands sent through both APIs, ETags and streams valid on either', async () => {
    const [first, second] = stack.clusters as [string, string];
    const ids: string[] = [];
    for (const app of APPS) {
      const file = {
        app,
        namespace: 'shop',
        workload: { kind: 'Deployment', name: app, container: 'app' },
        image: `registry.example.com/${app}:1.1.0`,
        // An untimed pause: each rollout needs a person's promote, sent through the shared address.
        steps: [{ setWeight: 50 }, { pause: {} }],
        waves: [{ name: 'all', clusters: [first, second] }],
        progressDeadline: '60s',
      };
      const created = await call(proxy.url, '/api/v1/rollouts', { method: 'POST', body: JSON.stringify(file) });
      expect(created.status, await created.clone().text()).toBe(201);
      ids.push(((await created.json()) as Status).id);
    }

    // One rollout's ETag from one API process is the other's too: a conditional GET there answers 304.
    const [a, b] = apis as [string, string];
    const [watched] = ids as [string];
    const fromA = await call(a, `/api/v1/rollouts/${watched}`);
    const etag = fromA.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const status = (await fromA.json()) as Status;
    const fromB = await call(b, `/api/v1/rollouts/${watched}`, { headers: { 'if-none-match': etag } });
    // 304 while the rollout has not moved on in between; otherwise B's answer is the newer revision.
    if (fromB.status === 200) expect(((await fromB.json()) as Status).revision).toBeGreaterThan(status.revision);
    else expect(fromB.status).toBe(304);

    // Promote each rollout once both clusters wait at the pause, sending the commands to one API process and the other
    // in turn (the reads go through the shared address).
    const promoted = new Set<string>();
    await stack.waitFor('every rollout to be promoted and finished', async () => {
      let finished = 0;
      for (const id of ids) {
        const current = (await (await call(proxy.url, `/api/v1/rollouts/${id}`)).json()) as Status;
        if (current.phase === 'succeeded') finished++;
        else if (!promoted.has(id) && current.clusters.length === 2 && current.clusters.every((c) => c.awaitingPromote)) {
          const api = apis[promoted.size % apis.length]!;
          const answer = await call(api, `/api/v1/rollouts/${id}/promote`, { method: 'POST', body: JSON.stringify({ reason: 'looks good' }) });
          expect(answer.status, await answer.clone().text()).toBe(202);
          promoted.add(id);
        }
      }
      return finished === ids.length;
    }, 180_000);

    expect(promoted.size).toBe(ids.length);
    // Both workers shared the rollouts: kube-sim's audit has writes from each, told apart by their User-Agent.
    const writers = new Set(stack.clusters.flatMap((cluster) => stack.sim.cluster(cluster).audit().map((entry) => /pid (\d+)\)/.exec(entry.userAgent ?? '')?.[1])));
    for (const worker of children.slice(0, 2)) expect(writers).toContain(String(worker.process.pid));
    // The shared address spread the reads and the creations over both API processes.
    expect(new Set(proxy.answered.filter((r) => r.method === 'POST').map((r) => r.backend)).size).toBe(2);
    for (const app of APPS) {
      for (const cluster of stack.clusters) {
        expect(deploymentImage(stack, cluster, app)).toBe(`registry.example.com/${app}:1.1.0`);
      }
    }

    // The event stream, read from one API and resumed with Last-Event-ID on the other, gives each event once, to the end.
    const streamed = async (url: string, lastEventId?: string) => {
      const response = await call(url, `/api/v1/rollouts/${watched}/events/stream`, { headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
      expect(response.status).toBe(200);
      return response.text();
    };
    const whole = await streamed(a);
    const seqs = [...whole.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(whole).toMatch(/event: end\ndata: \{"phase":"succeeded"/);
    const middle = seqs[Math.floor(seqs.length / 2)]!;
    const rest = await streamed(b, String(middle));
    expect([...rest.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual(seqs.filter((id) => id > middle));
    expect(rest).toMatch(/event: end/);
  });
});
