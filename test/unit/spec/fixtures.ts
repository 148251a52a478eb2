import type { ClusterInfo } from '../../../src/spec/plan.ts';

/** The DESIGN.md example, adapted to the three clusters below. */
export const EXAMPLE_YAML = `
app: checkout                      # one active rollout per app
namespace: shop
workload: { kind: Deployment, name: checkout, container: app }
image: registry.example.com/checkout:2.3.1
steps:
  - setWeight: 10
  - pause: { duration: 1m }
  - setWeight: 50
  - pause: { duration: 2m }
  - pause: {}
analysis:
  interval: 30s
  failureLimit: 0
  inconclusiveLimit: 0
  metrics:
    - name: error-rate
      query: |
        sum(rate(http_requests_total{namespace="{{namespace}}",app="{{app}}",version="{{version}}",code=~"5.."}[{{window}}]))
        / sum(rate(http_requests_total{namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[{{window}}]))
      max: 0.01
waves:
  - { name: canary, clusters: [staging-eu] }
  - { name: europe, clusters: [prod-eu-1], maxParallel: 1, approval: true, bake: 10m }
  - { name: americas, selector: { region: us } }
rollback: { scope: all }
progressDeadline: 10m
`;

/** The smallest valid rollout: everything else defaults. */
export function minimal(): Record<string, unknown> {
  return {
    app: 'checkout',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'checkout', container: 'app' },
    image: 'registry.example.com/checkout:2.3.1',
    waves: [{ name: 'canary', clusters: ['staging-eu'] }],
  };
}

export const CLUSTERS: ClusterInfo[] = [
  { name: 'staging-eu', labels: { region: 'eu', env: 'staging' }, prometheusUrl: 'http://prom-eu:9090' },
  { name: 'prod-eu-1', labels: { region: 'eu', env: 'prod' }, prometheusUrl: 'http://prom-eu:9090' },
  { name: 'prod-us-1', labels: { region: 'us', env: 'prod' }, prometheusUrl: 'http://user:secret@prom-us:9090' },
];
