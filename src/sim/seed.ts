// The objects a simulated cluster starts with: a YAML file (several documents, or `kind: List`), objects given in
// code, or the default `shop/checkout` app that the demo and the tests roll out.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { isPlainObject, type KubeObject } from './objects.ts';

export const DEFAULT_IMAGE = 'registry.example.com/checkout:1.0.0';

/** Namespace `shop`, Deployment `checkout` (4 replicas of 1.0.0, readiness probe) and its Service. */
export function defaultSeed(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout', namespace: 'shop', labels: { app: 'checkout' } },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'checkout' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        progressDeadlineSeconds: 600,
        revisionHistoryLimit: 10,
        template: {
          metadata: { labels: { app: 'checkout', version: '1.0.0' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: DEFAULT_IMAGE,
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
                resources: { requests: { cpu: '100m', memory: '128Mi' } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'checkout', namespace: 'shop', labels: { app: 'checkout' } },
      spec: { selector: { app: 'checkout' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
  ];
}

function flatten(value: unknown, where: string): KubeObject[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => flatten(item, `${where}[${i}]`));
  if (!isPlainObject(value)) throw new Error(`kube-sim seed: ${where} is not an object`);
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) return flatten(value.items, `${where}.items`);
  if (typeof value.kind !== 'string' || typeof value.apiVersion !== 'string' || !isPlainObject(value.metadata)) {
    throw new Error(`kube-sim seed: ${where} needs apiVersion, kind and metadata (got ${JSON.stringify(value).slice(0, 120)})`);
  }
  return [value as KubeObject];
}

/** Reads a seed file (YAML or JSON; several documents allowed). */
export async function loadSeedFile(path: string): Promise<KubeObject[]> {
  const text = await readFile(path, 'utf8');
  const objects: KubeObject[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`kube-sim seed ${path}: document ${i + 1}: ${doc.errors[0]!.message}`);
    objects.push(...flatten(doc.toJS(), `${path} document ${i + 1}`));
  });
  return objects;
}

export async function resolveSeed(seed: string | object[] | undefined): Promise<KubeObject[]> {
  if (seed === undefined) return defaultSeed();
  if (typeof seed === 'string') return loadSeedFile(seed);
  return flatten(structuredClone(seed), 'seed');
}

/** CRDs first, then namespaces, then the rest in the order given, so that every object finds what it needs. */
export function orderSeed(objects: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject) => (o.kind === 'CustomResourceDefinition' ? 0 : o.kind === 'Namespace' ? 1 : 2);
  return objects.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i).map(({ o }) => o);
}
