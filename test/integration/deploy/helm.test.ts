import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startTestSim, uniqueCluster, type TestSim } from '../sim/helpers.ts';
import { CHART, k8sTool, mustRun, runTool } from './tools.ts';

const FULL_VALUES = `${CHART}/ci/full-values.yaml`;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // Manifests are read as loose JSON: the assertions say which fields matter.
  spec?: Record<string, any>;
  data?: Record<string, string>;
}

async function render(...args: string[]): Promise<Manifest[]> {
  const out = await mustRun('helm', ['template', 'ol', CHART, '--namespace', 'oleada', ...args]);
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

function byKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

function deployment(manifests: Manifest[], name: string): Manifest {
  const found = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === name);
  if (!found) throw new Error(`no Deployment ${name} in ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
}

let defaults: Manifest[];
let full: Manifest[];
beforeAll(async () => {
  k8sTool('helm');
  [defaults, full] = await Promise.all([render(), render('-f', FULL_VALUES)]);
});

describe('the Helm chart', () => {
  it('passes helm lint --strict with the default values and with every option switched on', async () => {
    for (const args of [[], ['-f', FULL_VALUES]]) {
      const result = await runTool('helm', ['lint', '--strict', CHART, ...args]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('renders separate api and worker Deployments of two replicas, a PodDisruptionBudget for the api, and a Service to it', () => {
    expect(defaults.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Deployment', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceAccount']);
    const api = deployment(defaults, 'ol-oleada-api');
    const worker = deployment(defaults, 'ol-oleada-worker');
    expect(api.spec!.replicas).toBe(2);
    expect(worker.spec!.replicas).toBe(2);
    expect(api.spec!.template.spec.containers[0].args).toEqual(['api']);
    expect(worker.spec!.template.spec.containers[0].args).toEqual(['worker']);
    expect(api.spec!.template.spec.containers[0].image).toBe('ghcr.io/oleada/oleada:0.1.0');

    const [pdb] = byKind(defaults, 'PodDisruptionBudget');
    expect(pdb!.spec!.selector.matchLabels).toEqual(api.spec!.selector.matchLabels);
    const service = byKind(defaults, 'Service').find((m) => m.metadata!.name === 'ol-oleada')!;
    expect(service.spec!.selector).toEqual(api.spec!.selector.matchLabels);
    // The worker's pods must not take API traffic; their own headless Service is only for scraping their metrics.
    expect(worker.spec!.selector.matchLabels).not.toEqual(api.spec!.selector.matchLabels);
    const workerMetrics = byKind(defaults, 'Service').find((m) => m.metadata!.name === 'ol-oleada-worker-metrics')!;
    expect(workerMetrics.spec!.selector).toEqual(worker.spec!.selector.matchLabels);
    expect(workerMetrics.spec!.clusterIP).toBe('None');
  });

  it('probes the workers on /healthz and /readyz of their metrics port', () => {
    const container = deployment(defaults, 'ol-oleada-worker').spec!.template.spec.containers[0];
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
  });

  it('probes the api on /healthz and /readyz', () => {
    const container = deployment(defaults, 'ol-oleada-api').spec!.template.spec.containers[0];
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  it('runs every container non-root, with a read-only root filesystem, no capabilities and the RuntimeDefault seccomp profile', () => {
    const pods = [...defaults, ...full].filter((m) => m.kind === 'Deployment').map((m) => m.spec!.template.spec);
    expect(pods).toHaveLength(6);
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
    }
  });

  it('mounts the clusters and notifications files from its ConfigMap and every credential from Secrets named in values', () => {
    expect(byKind(full, 'Secret')).toEqual([]);
    const [configMap] = byKind(full, 'ConfigMap');
    expect(Object.keys(configMap!.data!).sort()).toEqual(['clusters.yaml', 'notifications.yaml']);
    expect(configMap!.data!['clusters.yaml']).toContain('kubeconfig: /etc/oleada/kubeconfigs/staging-eu.yaml');

    for (const name of ['ol-oleada-api', 'ol-oleada-worker']) {
      const pod = deployment(full, name).spec!.template.spec;
      const secretVolumes = Object.fromEntries(
        (pod.volumes as { name: string; secret?: { secretName: string } }[]).filter((v) => v.secret).map((v) => [v.name, v.secret!.secretName]),
      );
      expect(secretVolumes).toEqual({ kubeconfigs: 'oleada-kubeconfigs', tokens: 'oleada-tokens' });
      const env = Object.fromEntries((pod.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [e.name, e.value ?? e.valueFrom]));
      expect(env).toMatchObject({
        OLEADA_CLUSTERS_FILE: '/etc/oleada/config/clusters.yaml',
        OLEADA_NOTIFICATIONS_FILE: '/etc/oleada/config/notifications.yaml',
        OLEADA_TOKENS_FILE: '/etc/oleada/tokens/tokens.yaml',
        OLEADA_PG_PASSWORD: { secretKeyRef: { name: 'oleada-postgresql', key: 'password' } },
        // Kubernetes expands $(OLEADA_PG_PASSWORD) when the container starts: the password is in no manifest.
        DATABASE_URL: 'postgres://oleada:$(OLEADA_PG_PASSWORD)@ol-oleada-postgresql:5432/oleada',
        REDIS_URL: 'redis://ol-oleada-redis:6379',
        // The variables src/config.ts reads, from keys of the Secrets named in values: no secret is in a manifest.
        OLEADA_SLACK_BOT_TOKEN: { secretKeyRef: { name: 'oleada-slack', key: 'botToken', optional: true } },
        OLEADA_SLACK_SIGNING_SECRET: { secretKeyRef: { name: 'oleada-slack', key: 'signingSecret', optional: true } },
        OLEADA_HOOK_SIGNING_SECRET: { secretKeyRef: { name: 'oleada-hooks', key: 'signingSecret' } },
      });
    }
  });

  it('reads DATABASE_URL and REDIS_URL, passwords and all, from existing Secrets when values name them', async () => {
    const manifests = await render('--set', 'database.existingSecret.name=oleada-db', '--set', 'queue.existingSecret.name=oleada-redis,queue.existingSecret.key=url');
    const env = deployment(manifests, 'ol-oleada-worker').spec!.template.spec.containers[0].env as { name: string; valueFrom?: unknown }[];
    expect(env.find((e) => e.name === 'DATABASE_URL')!.valueFrom).toEqual({ secretKeyRef: { name: 'oleada-db', key: 'DATABASE_URL' } });
    expect(env.find((e) => e.name === 'REDIS_URL')!.valueFrom).toEqual({ secretKeyRef: { name: 'oleada-redis', key: 'url' } });
  });

  it('renders the Ingress, the ServiceMonitor and the bundled Redis and PostgreSQL only when switched on', () => {
    const kinds = (ms: Manifest[]) => ms.map((m) => `${m.kind}/${m.metadata.name}`).sort();
    expect(kinds(full)).toEqual([
      'ConfigMap/ol-oleada',
      'Deployment/ol-oleada-api',
      'Deployment/ol-oleada-postgresql',
      'Deployment/ol-oleada-redis',
      'Deployment/ol-oleada-worker',
      'Ingress/ol-oleada',
      'PersistentVolumeClaim/ol-oleada-postgresql',
      'PodDisruptionBudget/ol-oleada-api',
      'Service/ol-oleada',
      'Service/ol-oleada-postgresql',
      'Service/ol-oleada-redis',
      'Service/ol-oleada-worker-metrics',
      'ServiceAccount/ol-oleada',
      'ServiceMonitor/ol-oleada',
    ]);
    const [ingress] = byKind(full, 'Ingress');
    expect(ingress!.spec).toMatchObject({ ingressClassName: 'nginx', tls: [{ hosts: ['oleada.example.com'], secretName: 'oleada-tls' }] });
    const [monitor] = byKind(full, 'ServiceMonitor');
    expect(monitor!.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(monitor!.spec!.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
  });

  it.each([
    ['a database URL that carries a password', ['database.url=postgres://oleada:hunter2@db:5432/oleada'], "at '/database/url'"],
    ['the bundled PostgreSQL without a password Secret', ['postgresql.enabled=true'], "at '/postgresql/existingSecret': minLength"],
    ['a writable root filesystem', ['securityContext.readOnlyRootFilesystem=false'], "at '/securityContext/readOnlyRootFilesystem': value must be true"],
    ['running as root', ['podSecurityContext.runAsNonRoot=false'], "at '/podSecurityContext/runAsNonRoot': value must be true"],
    ['an added capability', ['securityContext.capabilities.add={NET_ADMIN}'], "at '/securityContext/capabilities/add': maxItems"],
    ['a negative replica count', ['worker.replicas=-1'], "at '/worker/replicas': minimum: got -1, want 0"],
    ['a misspelt value', ['api.replica=3'], "additional properties 'replica' not allowed"],
    ['an unknown log level', ['settings.logLevel=loud'], "at '/settings/logLevel': value must be one of"],
    ['no database at all', ['database.url='], "at '/database/url'"],
  ])('refuses %s, naming the value', async (_what, sets, message) => {
    const result = await runTool('helm', ['template', 'ol', CHART, ...sets.flatMap((s) => ['--set', s])]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toContain(message);
  });
});

describe('the chart applied with kubectl to kube-sim', () => {
  const CLUSTER = uniqueCluster('hub');
  let t: TestSim;
  const kubectl = (...args: string[]) =>
    mustRun('kubectl', ['--kubeconfig', t.sim.kubeconfigPath!, '--context', CLUSTER, '--cache-dir', join(t.dir, 'kube-cache'), ...args]);

  beforeAll(async () => {
    k8sTool('kubectl');
    // kubectl sends its bearer token only over TLS. Time scale 4: pods start in half a second.
    t = await startTestSim({ clusters: [CLUSTER], tls: true, timeScale: 4 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates every object of the full render and the Deployments become Ready', async () => {
    // What the chart expects to find: its namespace, the Secrets it names, and prometheus-operator's CRD.
    const prerequisites = join(t.dir, 'prerequisites.yaml');
    await writeFile(prerequisites, PREREQUISITES);
    await kubectl('apply', '-f', prerequisites);

    // Every kind the chart renders must be one kube-sim serves; none is left out of the apply.
    const served = new Set(
      (await kubectl('api-resources', '--no-headers'))
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/).slice(-3))
        .map(([apiVersion, , kind]) => `${apiVersion} ${kind}`),
    );
    const unserved = [...new Set(full.filter((m) => !served.has(`${m.apiVersion} ${m.kind}`)).map((m) => `${m.apiVersion} ${m.kind}`))];
    expect(unserved, 'kinds kube-sim does not serve: extend kube-sim or drop them from the chart').toEqual([]);
    const applicable = full;
    expect(applicable.map((m) => m.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ConfigMap', 'ServiceAccount', 'ServiceMonitor']));

    const file = join(t.dir, 'oleada.yaml');
    await writeFile(file, applicable.map((m) => JSON.stringify(m)).join('\n---\n'));
    const applied = (await kubectl('apply', '-n', 'oleada', '-f', file)).trim().split('\n');
    expect(applied).toHaveLength(applicable.length);
    for (const line of applied) expect(line).toMatch(/ created$/);

    const deployments = byKind(applicable, 'Deployment').map((m) => m.metadata.name);
    expect(deployments).toHaveLength(4);
    for (const name of deployments) {
      const status = (await kubectl('-n', 'oleada', 'rollout', 'status', `deploy/${name}`, '--timeout=60s')).trim().split('\n');
      expect(status.at(-1)).toBe(`deployment "${name}" successfully rolled out`);
    }
    const live = JSON.parse(await kubectl('-n', 'oleada', 'get', 'deploy', '-o', 'json')) as { items: { metadata: { name: string }; spec: { replicas: number }; status: { readyReplicas?: number } }[] };
    expect(Object.fromEntries(live.items.map((d) => [d.metadata.name, [d.spec.replicas, d.status.readyReplicas]]))).toEqual({
      'ol-oleada-api': [3, 3],
      'ol-oleada-worker': [2, 2],
      'ol-oleada-redis': [1, 1],
      'ol-oleada-postgresql': [1, 1],
    });
    const apiPods = JSON.parse(await kubectl('-n', 'oleada', 'get', 'pods', '-l', 'app.kubernetes.io/component=api', '-o', 'json')) as { items: { status: { phase: string } }[] };
    expect(apiPods.items.map((p) => p.status.phase)).toEqual(['Running', 'Running', 'Running']);
  });
});

const PREREQUISITES = `apiVersion: v1
kind: Namespace
metadata: { name: oleada }
---
apiVersion: v1
kind: Secret
metadata: { name: oleada-kubeconfigs, namespace: oleada }
stringData: { staging-eu.yaml: "apiVersion: v1\\nkind: Config\\n" }
---
apiVersion: v1
kind: Secret
metadata: { name: oleada-tokens, namespace: oleada }
stringData: { tokens.yaml: "tokens: []\\n" }
---
apiVersion: v1
kind: Secret
metadata: { name: oleada-slack, namespace: oleada }
stringData: { botToken: xoxb-test, signingSecret: test-signing-secret }
---
apiVersion: v1
kind: Secret
metadata: { name: oleada-hooks, namespace: oleada }
stringData: { signingSecret: whsec_dGVzdC1ob29rLXNpZ25pbmctc2VjcmV0 }
---
apiVersion: v1
kind: Secret
metadata: { name: oleada-postgresql, namespace: oleada }
stringData: { password: testpassword }
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: servicemonitors.monitoring.coreos.com }
spec:
  group: monitoring.coreos.com
  names: { kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;
