/**
 * A whole Oleada behind its dashboard for a browser test: the stack of test/support/stack.ts (kube-sim clusters, the
 * real services, the engine) with the API listening on a port of its own and one token per role.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/api/app.ts';
import { hashToken, TokenStore } from '../../../src/api/auth/tokens.ts';
import { stackApiDeps, startStack, type Stack, type StackOptions } from '../../support/stack.ts';

export const TOKENS = {
  deployer: 'e2e-deployer-token-0123456789',
  viewer: 'e2e-viewer-token-0123456789',
} as const;

const TOKENS_YAML = [
  'tokens:',
  `  - { name: alice, role: deployer, sha256: ${hashToken(TOKENS.deployer).toString('hex')} }`,
  `  - { name: victor, role: viewer, sha256: ${hashToken(TOKENS.viewer).toString('hex')} }`,
].join('\n');

export interface Dashboard {
  stack: Stack;
  url: string;
  /** fetch against the API as a role. */
  api(path: string, as: keyof typeof TOKENS, init?: RequestInit): Promise<Response>;
  /** Stops the API (the engine goes on), to show the page without it; `startApi` brings it back on the same port. */
  stopApi(): Promise<void>;
  startApi(): Promise<void>;
  close(): Promise<void>;
}

export async function startDashboard(options: StackOptions): Promise<Dashboard> {
  const stack = await startStack(options);
  let app: FastifyInstance | undefined;
  let port = 0;
  const start = async () => {
    app = await buildApp({
      ...stackApiDeps(stack),
      tokens: TokenStore.parse(TOKENS_YAML, 'e2e tokens'),
      rateLimit: false,
    });
    const address = await app.listen({ host: '127.0.0.1', port });
    port = Number(new URL(address).port);
    // A short keep-alive hint lets idle connections close within the leak check's grace period.
    app.server.keepAliveTimeout = 1000;
  };
  await start();
  const url = `http://127.0.0.1:${port}`;
  return {
    stack,
    url,
    api: (path, as, init = {}) =>
      fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKENS[as]}`, 'content-type': 'application/json', ...init.headers } }),
    stopApi: async () => {
      await app?.close();
      app = undefined;
    },
    startApi: start,
    async close() {
      await app?.close();
      await stack.close();
    },
  };
}
