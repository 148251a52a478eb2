import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clustersYaml, deriveLabels, kubeconfigYaml } from '../../../src/sim/kubeconfig.ts';

describe('cluster labels from names', () => {
  it.each([
    ['staging-eu', { env: 'staging', region: 'eu' }],
    ['prod-eu-1', { env: 'prod', region: 'eu' }],
    ['prod-us-1', { env: 'prod', region: 'us' }],
    ['prod-us-east-2', { env: 'prod', region: 'us-east' }],
    ['t1a2b3-staging-eu', { env: 'staging', region: 'eu' }],
    ['minikube', {}],
  ])('%s -> %j', (name, labels) => {
    expect(deriveLabels(name)).toEqual(labels);
  });
});

describe('the written files', () => {
  const clusters = [
    { name: 'staging-eu', url: 'https://127.0.0.1:6443', token: 'a', labels: { env: 'staging', region: 'eu' } },
    { name: 'prod-us-1', url: 'https://127.0.0.1:6444', token: 'b', labels: { env: 'prod', region: 'us' }, traffic: 'istio' },
  ];

  it('make a kubeconfig with a context, a cluster and a token user per cluster, and the CA when there is one', () => {
    const config = parse(kubeconfigYaml(clusters, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n'));
    expect(config.contexts).toEqual([
      { name: 'staging-eu', context: { cluster: 'staging-eu', user: 'staging-eu' } },
      { name: 'prod-us-1', context: { cluster: 'prod-us-1', user: 'prod-us-1' } },
    ]);
    expect(config.users[1]).toEqual({ name: 'prod-us-1', user: { token: 'b' } });
    expect(config.clusters[0].cluster.server).toBe('https://127.0.0.1:6443');
    expect(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toContain('BEGIN CERTIFICATE');
    expect(config['current-context']).toBe('staging-eu');
  });

  it("make Oleada's clusters file in its documented shape", () => {
    const file = parse(clustersYaml(clusters, '/abs/kubeconfig.yaml', 'http://127.0.0.1:19090'));
    expect(file).toEqual({
      clusters: [
        { name: 'staging-eu', kubeconfig: '/abs/kubeconfig.yaml', context: 'staging-eu', labels: { env: 'staging', region: 'eu' }, prometheus: { url: 'http://127.0.0.1:19090' } },
        { name: 'prod-us-1', kubeconfig: '/abs/kubeconfig.yaml', context: 'prod-us-1', labels: { env: 'prod', region: 'us' }, traffic: 'istio', prometheus: { url: 'http://127.0.0.1:19090' } },
      ],
    });
  });
});
