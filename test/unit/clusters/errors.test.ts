import { AbortError, ApiException, FetchError } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeError, KubeTimeoutError, classifyKubeError, type KubeOperation } from '../../../src/clusters/errors.ts';

function apiError(code: number, reason?: string, message?: string): ApiException<string> {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  return new ApiException(code, `HTTP-Code: ${code}`, body, {});
}

function systemError(code: string): FetchError {
  return new FetchError(`request to https://127.0.0.1:6443/apis failed, reason: connect ${code} 127.0.0.1:6443`, 'system', {
    code,
  } as unknown as Error);
}

const patchCheckout: KubeOperation = {
  verb: 'patch',
  resource: 'deployments.apps',
  namespace: 'shop',
  name: 'checkout',
  context: 'eu1-admin',
  notFoundHint: 'check workload.name and namespace in the rollout file',
};

describe('classifyKubeError', () => {
  const table: Array<[string, unknown, 'retryable' | 'conflict' | 'final', string]> = [
    ['our own timeout', new KubeTimeoutError(2_000), 'retryable', 'timeout'],
    ['an aborted request', new AbortError('The user aborted a request.'), 'retryable', 'timeout'],
    ['a refused connection', systemError('ECONNREFUSED'), 'retryable', 'unreachable'],
    ['a reset connection', systemError('ECONNRESET'), 'retryable', 'unreachable'],
    ['an unreachable host', systemError('EHOSTUNREACH'), 'retryable', 'unreachable'],
    ['a DNS hiccup', systemError('EAI_AGAIN'), 'retryable', 'unreachable'],
    ['a socket hang up', new FetchError('request failed, reason: socket hang up', 'system'), 'retryable', 'unreachable'],
    ['500', apiError(500, 'InternalError', 'etcd is sad'), 'retryable', 'server_error'],
    ['503', apiError(503, 'ServiceUnavailable'), 'retryable', 'server_error'],
    ['504', apiError(504, 'Timeout'), 'retryable', 'server_error'],
    ['408', apiError(408, 'Timeout'), 'retryable', 'server_error'],
    ['429', apiError(429, 'TooManyRequests'), 'retryable', 'throttled'],
    ['409', apiError(409, 'Conflict', 'the object has been modified'), 'conflict', 'conflict'],
    ['404', apiError(404, 'NotFound', 'deployments.apps "checkout" not found'), 'final', 'not_found'],
    ['403', apiError(403, 'Forbidden'), 'final', 'forbidden'],
    ['401', apiError(401, 'Unauthorized'), 'final', 'unauthorized'],
    ['422', apiError(422, 'Invalid', 'spec.replicas: Invalid value: -1'), 'final', 'invalid'],
    ['400', apiError(400, 'BadRequest'), 'final', 'bad_request'],
    ['a TLS verification failure', systemError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'final', 'tls'],
    ['a plain bug', new TypeError('cannot read properties of undefined'), 'final', 'unknown'],
    ['a thrown string', 'something odd', 'final', 'unknown'],
  ];

  it.each(table)('sorts %s as %s', (_label, err, kind, reason) => {
    const classified = classifyKubeError(err, 'prod-eu-1', patchCheckout);
    expect(classified).toBeInstanceOf(KubeError);
    expect(classified.kind).toBe(kind);
    expect(classified.reason).toBe(reason);
    expect(classified.cluster).toBe('prod-eu-1');
    expect(classified.message.startsWith('prod-eu-1: ')).toBe(true);
    expect(classified.cause).toBe(err);
  });

  it('keeps the HTTP status of API errors', () => {
    expect(classifyKubeError(apiError(503), 'c', patchCheckout).status).toBe(503);
    expect(classifyKubeError(systemError('ECONNREFUSED'), 'c', patchCheckout).status).toBeUndefined();
  });

  it('says what to check when the workload is missing', () => {
    const error = classifyKubeError(apiError(404, 'NotFound'), 'prod-eu-1', patchCheckout);
    expect(error.message).toBe(
      'prod-eu-1: deployments.apps "checkout" not found in namespace shop: check workload.name and namespace in the rollout file',
    );
  });

  it('names the kubeconfig context and the verb when access is forbidden', () => {
    const error = classifyKubeError(
      apiError(403, 'Forbidden', 'deployments.apps "checkout" is forbidden: User "ci" cannot patch resource "deployments"'),
      'prod-eu-1',
      patchCheckout,
    );
    expect(error.message).toMatch(/^prod-eu-1: forbidden: the credentials in kubeconfig context eu1-admin cannot patch deployments\.apps in shop/);
    expect(error.message).toContain('User "ci" cannot patch');
  });

  it('says "timed out" with the deadline on a timeout', () => {
    const error = classifyKubeError(new KubeTimeoutError(1_500), 'prod-eu-1', patchCheckout);
    expect(error.message).toContain('timed out after 1500 ms');
  });

  it('carries the server message of a 5xx', () => {
    const error = classifyKubeError(apiError(500, 'InternalError', 'etcd is sad'), 'prod-eu-1', patchCheckout);
    expect(error.message).toContain('500');
    expect(error.message).toContain('etcd is sad');
  });

  it('copes with a body that is not JSON', () => {
    const error = classifyKubeError(new ApiException(502, 'bad gateway', '<html>Bad Gateway</html>', {}), 'c', 'get version');
    expect(error.kind).toBe('retryable');
    expect(error.message).toContain('<html>Bad Gateway</html>');
  });

  it('accepts a plain description in place of an operation', () => {
    const error = classifyKubeError(apiError(404), 'staging', 'deployment shop/checkout');
    expect(error.kind).toBe('final');
    expect(error.message).toBe('staging: deployment shop/checkout not found');
  });

  it('passes a KubeError through untouched', () => {
    const original = classifyKubeError(apiError(409), 'c', patchCheckout);
    expect(classifyKubeError(original, 'other', 'x')).toBe(original);
  });
});
