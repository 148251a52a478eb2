// The kubectl commands of a platform engineer's ordinary day, run against kube-sim with two client versions:
// kubectl v1.33 (scripts/install-k8s-tools.sh) and Debian's 1.20 (scripts/install-kubectl-1.20.sh), which reads
// /openapi/v2 to validate and to compute apply patches. Each version works in a namespace of its own.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimCluster } from '../../../src/sim/index.ts';
import { KUBECTLS, kubectlRun, type KubectlVersion } from './kubectl-bin.ts';
import { startTestSim, uniqueCluster, waitFor, type TestSim } from './helpers.ts';

const CLUSTER = uniqueCluster('prod-eu-1');
let t: TestSim;
let cluster: SimCluster;

beforeAll(async () => {
  t = await startTestSim({ clusters: [CLUSTER], tls: true, timeScale: 20 });
  cluster = t.sim.cluster(CLUSTER);
});
afterAll(async () => {
  await t?.close();
});

describe.each(Object.keys(KUBECTLS) as KubectlVersion[])('kubectl %s', (version) => {
  const ns = `day-${version.replace('.', '-')}`;
  const kubectl = async (...args: string[]) => kubectlRun(version, t.sim.kubeconfigPath!, t.dir, ['--context', CLUSTER, ...args]);
  const ok = async (...args: string[]) => {
    const result = await kubectl(...args);
    expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };

  it('is the client version its name says', async () => {
    const client = (JSON.parse(await ok('version', '--client', '-o', 'json')) as { clientVersion: { gitVersion: string } }).clientVersion;
    expect(client.gitVersion).toMatch(new RegExp(`^${version.replace('.', '\\.')}\\.\\d+`));
  });

  it('creates a namespace, a configmap, a secret and a deployment imperatively (protobuf bodies)', async () => {
    expect(await ok('create', 'namespace', ns)).toContain(`namespace/${ns} created`);
    await ok('-n', ns, 'create', 'configmap', 'settings', '--from-literal=mode=fast');
    await ok('-n', ns, 'create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret');
    await ok('-n', ns, 'create', 'deployment', 'web', '--image=registry.example.com/web:1.0.0', '--replicas=2');
    expect(await ok('-n', ns, 'get', 'configmap', 'settings', '-o', 'jsonpath={.data.mode}')).toBe('fast');
    expect(Buffer.from(await ok('-n', ns, 'get', 'secret', 'creds', '-o', 'jsonpath={.data.password}'), 'base64').toString()).toBe('s3cret');
    const strategy = JSON.parse(await ok('-n', ns, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.strategy}')) as { type: string };
    expect(strategy.type).toBe('RollingUpdate');
  });

  it('finds a default ServiceAccount in the new namespace', async () => {
    await waitFor('the default ServiceAccount', () => cluster.get('v1/ServiceAccount', ns, 'default'));
    expect(await ok('-n', ns, 'get', 'serviceaccount', 'default', '-o', 'name')).toBe('serviceaccount/default\n');
  });

  it('describes a pod with its scheduling and kubelet events, and its QoS class', async () => {
    await ok('-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s');
    const pod = (await ok('-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    await waitFor('the Started event', () => cluster.list('v1/Event', ns).some((e) => e.reason === 'Started' && (e.involvedObject as { name: string }).name === pod));
    const described = await ok('-n', ns, 'describe', 'pod', pod);
    for (const reason of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) expect(described).toMatch(new RegExp(`Normal\\s+${reason}\\s`));
    expect(described).toMatch(/QoS Class:\s+BestEffort/);
    expect(described).toMatch(new RegExp(`Successfully assigned ${ns}/${pod} to ${CLUSTER}-worker-\\d`));
  });

  it('gives a pod with equal limits and requests the Guaranteed class, requests defaulted from limits', async () => {
    const file = join(t.dir, `${ns}-pod.yaml`);
    await writeFile(file, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: sized\n  namespace: ${ns}\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/web:1.0.0\n    resources:\n      limits: {cpu: 100m, memory: 64Mi}\n`);
    await ok('apply', '-f', file);
    expect(await ok('-n', ns, 'get', 'pod', 'sized', '-o', 'jsonpath={.status.qosClass} {.spec.containers[0].resources.requests.memory}')).toBe('Guaranteed 64Mi');
  });

  it('shows the Ready pods of a Service as its endpoints', async () => {
    await ok('-n', ns, 'expose', 'deployment', 'web', '--port=80', '--target-port=8080');
    const ips = (await ok('-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}')).trim().split(' ');
    const described = await waitFor('the endpoints in describe svc', async () => {
      const out = await ok('-n', ns, 'describe', 'service', 'web');
      return ips.every((ip) => out.includes(`${ip}:8080`)) ? out : undefined;
    });
    expect(described).toMatch(/Endpoints:\s+10\.244\./);
    expect(await ok('-n', ns, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[0].endpoints[*].conditions.ready}')).toBe('true true');
  });

  it('stores an autoscaler that reads its scale target', async () => {
    await ok('-n', ns, 'autoscale', 'deployment', 'web', '--min=1', '--max=5', '--cpu-percent=80');
    const status = await waitFor('the HPA status', async () => {
      const out = await ok('-n', ns, 'get', 'hpa', 'web', '-o', 'jsonpath={.status.currentReplicas}');
      return out === '2' ? out : undefined;
    });
    expect(status).toBe('2');
    // The server's columns, as kube-apiserver prints an autoscaler with no metrics pipeline.
    const table = await ok('-n', ns, 'get', 'hpa', 'web');
    expect(table).toMatch(/^NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE\n/);
    expect(table).toMatch(/^web +Deployment\/web +cpu: <unknown>\/80% +1 +5 +2 +\d+s\n/m);
  });

  it('prints EndpointSlices with the server\'s columns: address type, ports and endpoints', async () => {
    const ips = (await ok('-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}')).trim().split(' ').sort();
    const table = await ok('-n', ns, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=web');
    expect(table).toMatch(/^NAME +ADDRESSTYPE +PORTS +ENDPOINTS +AGE\n/);
    const row = /^(web-\S+) +IPv4 +8080 +(\S+) +\d+s$/m.exec(table);
    expect(row, table).not.toBeNull();
    expect(row![2]!.split(',').sort()).toEqual(ips);
  });

  it('keeps a PodDisruptionBudget\'s status and prints it', async () => {
    // policy/v1 from a file: kubectl 1.20's `create pdb` still writes policy/v1beta1, which Kubernetes 1.25 removed.
    const file = join(t.dir, `pdb-${version}.yaml`);
    await writeFile(file, `apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: { name: web, namespace: ${ns} }\nspec: { minAvailable: 1, selector: { matchLabels: { app: web } } }\n`);
    await ok('apply', '-f', file);
    const status = await waitFor('the PDB status', async () => {
      const out = await ok('-n', ns, 'get', 'pdb', 'web', '-o', 'jsonpath={.status.observedGeneration} {.status.expectedPods} {.status.currentHealthy} {.status.desiredHealthy} {.status.disruptionsAllowed}');
      return out === '1 2 2 1 1' ? out : undefined;
    });
    expect(status).toBe('1 2 2 1 1');
    expect(await ok('-n', ns, 'get', 'pdb', 'web', '-o', 'jsonpath={.status.conditions[0].type}={.status.conditions[0].status}')).toBe('DisruptionAllowed=True');
    const table = await ok('-n', ns, 'get', 'pdb', 'web');
    expect(table).toMatch(/^NAME +MIN AVAILABLE +MAX UNAVAILABLE +ALLOWED DISRUPTIONS +AGE\n/);
    expect(table).toMatch(/^web +1 +N\/A +1 +\d+s$/m);
  });

  it('answers `logs --previous` for a container that never restarted with the server error', async () => {
    const pod = (await ok('-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    expect(await ok('-n', ns, 'logs', pod)).toContain(`pod ${pod} container web`);
    const previous = await kubectl('-n', ns, 'logs', pod, '--previous');
    expect(previous.code).not.toBe(0);
    expect(previous.stderr).toContain(`previous terminated container "web" in pod "${pod}" not found`);
  });

  it('refuses a create that carries a resourceVersion (sent with --raw: kubectl create clears the field itself)', async () => {
    const file = join(t.dir, `${ns}-cm.json`);
    await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stale', namespace: ns, resourceVersion: '42' }, data: { a: 'b' } }));
    const result = await kubectl('create', '--raw', `/api/v1/namespaces/${ns}/configmaps`, '-f', file);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('resourceVersion should not be set on objects to be created');
    expect(cluster.get('v1/ConfigMap', ns, 'stale')).toBeUndefined();
  });

  it('applies an edit of one container among two, keeping the other, and removes a container dropped from the file', async () => {
    // kubectl computes the patch from the list merge keys in /openapi/v2 (1.20) or its own types; kube-sim merges by
    // its own. They must agree: the sidecar's env, set outside the file, survives an edit of the other container, and a
    // container dropped from the file goes (a list sent whole would leave it there).
    const file = join(t.dir, `${ns}-pair.yaml`);
    const manifest = (webImage: string, sidecar: boolean) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: pair, namespace: ${ns} }\nspec:\n  selector: { matchLabels: { app: pair } }\n  template:\n    metadata: { labels: { app: pair } }\n    spec:\n      containers:\n      - { name: web, image: ${webImage} }\n` +
      (sidecar ? '      - { name: sidecar, image: registry.example.com/proxy:1.0.0 }\n' : '');
    await writeFile(file, manifest('registry.example.com/web:1.0.0', true));
    await ok('apply', '-f', file);
    await ok('-n', ns, 'set', 'env', 'deployment/pair', '-c', 'sidecar', 'MODE=fast');
    await writeFile(file, manifest('registry.example.com/web:2.0.0', true));
    expect(await ok('apply', '-f', file)).toContain('deployment.apps/pair configured');
    const containers = (await ok('-n', ns, 'get', 'deployment', 'pair', '-o', 'jsonpath={range .spec.template.spec.containers[*]}{.name} {.image} {.env[*].name}{"\\n"}{end}')).trim().split('\n');
    expect(containers).toEqual(['web registry.example.com/web:2.0.0 ', 'sidecar registry.example.com/proxy:1.0.0 MODE']);
    await writeFile(file, manifest('registry.example.com/web:2.0.0', false));
    await ok('apply', '-f', file);
    expect(await ok('-n', ns, 'get', 'deployment', 'pair', '-o', 'jsonpath={.spec.template.spec.containers[*].name}')).toBe('web');
  });

  it('lists Leases in the coordination.k8s.io group', async () => {
    const file = join(t.dir, `${ns}-lease.yaml`);
    await writeFile(file, `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: leader\n  namespace: ${ns}\nspec:\n  holderIdentity: oleada-0\n  leaseDurationSeconds: 15\n`);
    await ok('apply', '-f', file);
    expect(await ok('-n', ns, 'get', 'leases', 'leader', '-o', 'jsonpath={.spec.holderIdentity}')).toBe('oleada-0');
  });
});

// Nodes are shared by the two versions: each test gives back what it took (cordons, taints), and names its own
// namespaces and apps so that a drain's pod selector finds only its own pods.
describe.each(Object.keys(KUBECTLS) as KubectlVersion[])('nodes, with kubectl %s', (version) => {
  const kubectl = (...args: string[]) => kubectlRun(version, t.sim.kubeconfigPath!, t.dir, ['--context', CLUSTER, ...args]);
  const node = (n: number) => `${CLUSTER}-worker-${n}`;
  const suffix = version.replace('.', '-');

  it('gives node conditions real timestamps, from the cluster\'s start', async () => {
    const out = (await kubectl('get', 'node', node(1), '-o', 'jsonpath={.status.conditions[0].lastHeartbeatTime} {.status.conditions[0].lastTransitionTime}')).stdout;
    const [heartbeat, transition] = out.split(' ').map((s) => Date.parse(s));
    for (const time of [heartbeat!, transition!]) {
      expect(time, out).toBeGreaterThan(Date.parse('2020-01-01T00:00:00Z'));
      expect(time, out).toBeLessThanOrEqual(Date.now());
    }
  });

  it('cordons a node: it shows SchedulingDisabled and takes no new pods', async () => {
    const ns = `cordoned-${suffix}`;
    expect((await kubectl('cordon', node(1))).code).toBe(0);
    expect((await kubectl('get', 'node', node(1))).stdout).toMatch(/Ready,SchedulingDisabled/);
    await kubectl('create', 'namespace', ns);
    await kubectl('-n', ns, 'create', 'deployment', 'many', '--image=registry.example.com/many:1.0.0', '--replicas=6');
    const pods = await waitFor('six scheduled pods', () => {
      const list = cluster.list('v1/Pod', ns).filter((p) => (p.spec as { nodeName?: string }).nodeName);
      return list.length === 6 ? list : undefined;
    });
    expect(pods.filter((p) => (p.spec as { nodeName: string }).nodeName === node(1))).toHaveLength(0);
    expect((await kubectl('uncordon', node(1))).code).toBe(0);
  });

  it('leaves a pod Pending with FailedScheduling when every node is cordoned or tainted, and schedules it once one frees up', async () => {
    const ns = `stuck-${suffix}`;
    await kubectl('cordon', node(1));
    await kubectl('cordon', node(2));
    await kubectl('taint', 'nodes', node(3), 'dedicated=db:NoSchedule');
    await kubectl('create', 'namespace', ns);
    await kubectl('-n', ns, 'run', 'waiting', '--image=registry.example.com/waiting:1.0.0');
    const event = await waitFor('FailedScheduling', () => cluster.list('v1/Event', ns).find((e) => e.reason === 'FailedScheduling'));
    expect(event.message).toBe('0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
    expect((await kubectl('-n', ns, 'get', 'pod', 'waiting', '-o', 'jsonpath={.status.phase}')).stdout).toBe('Pending');
    await kubectl('uncordon', node(2));
    const scheduled = await waitFor('the pod on worker 2', () => (cluster.get('v1/Pod', ns, 'waiting')?.spec as { nodeName?: string } | undefined)?.nodeName);
    expect(scheduled).toBe(node(2));
    await kubectl('uncordon', node(1));
    await kubectl('taint', 'nodes', node(3), 'dedicated-');
  });

  it('drains a node through the eviction subresource, stopping at a PodDisruptionBudget', async () => {
    const ns = `guarded-${suffix}`;
    const app = `db-${suffix}`;
    await kubectl('create', 'namespace', ns);
    await kubectl('-n', ns, 'create', 'deployment', app, '--image=registry.example.com/db:1.0.0', '--replicas=3');
    await kubectl('-n', ns, 'rollout', 'status', `deployment/${app}`, '--timeout=60s');
    if (version === 'v1.20') {
      console.log("kubectl v1.20's `create pdb` writes policy/v1beta1, which kube-sim (like Kubernetes 1.25 and later) does not serve: this version applies the PodDisruptionBudget from a policy/v1 file");
      const file = join(t.dir, `${ns}-pdb.yaml`);
      await writeFile(file, `apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: { name: ${app}, namespace: ${ns} }\nspec: { minAvailable: 3, selector: { matchLabels: { app: ${app} } } }\n`);
      expect((await kubectl('apply', '-f', file)).code).toBe(0);
    } else {
      expect((await kubectl('-n', ns, 'create', 'pdb', app, `--selector=app=${app}`, '--min-available=3')).code).toBe(0);
    }
    const pdbStatus = async () => (await kubectl('-n', ns, 'get', 'pdb', app, '-o', 'jsonpath={.status.observedGeneration} {.status.currentHealthy}/{.status.desiredHealthy} {.status.disruptionsAllowed}')).stdout;
    await waitFor('the PDB status', async () => ((await pdbStatus()) === '1 3/3 0' ? true : undefined));
    const onNode = cluster.list('v1/Pod', ns).find((p) => (p.spec as { nodeName: string }).nodeName)!;
    const target = (onNode.spec as { nodeName: string }).nodeName;
    const drain = await kubectl('drain', target, '--ignore-daemonsets', `--pod-selector=app=${app}`, '--timeout=3s');
    expect(drain.code).not.toBe(0);
    expect(drain.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(cluster.get('v1/Pod', ns, onNode.metadata.name!)).toBeDefined();
    await kubectl('-n', ns, 'patch', 'pdb', app, '--type=merge', '-p', '{"spec":{"minAvailable":1}}');
    // The eviction reads the status, which the disruption controller recounts for the new spec (generation 2).
    await waitFor('the PDB status for the new spec', async () => ((await pdbStatus()) === '2 3/1 2' ? true : undefined));
    const drained = await kubectl('drain', target, '--ignore-daemonsets', `--pod-selector=app=${app}`, '--timeout=20s');
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stdout).toContain(`pod/${onNode.metadata.name} evicted`);
    await kubectl('uncordon', target);
  });
});

describe('the controllers', () => {
  it('write no "Scaled up ... from 0 to 0" event', async () => {
    const scaled = cluster.list('v1/Event').filter((e) => e.reason === 'ScalingReplicaSet');
    expect(scaled.length).toBeGreaterThan(0);
    expect(scaled.filter((e) => / from 0 to 0$/.test(String(e.message)))).toEqual([]);
  });
});
