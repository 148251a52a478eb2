/**
 * `oleada rollout create --wait` end to end: the CLI as a child process, the API and the real engine in this
 * process, kube-sim clusters, and the real Prometheus judging the canary.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { rolloutFile, serveDeployerApi, startStack, type Stack } from '../../support/stack.ts';

const BIN = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));
const TOKEN = 'e2e-deployer-token-0123456789';

let stack: Stack;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'] });
  ({ app, url } = await serveDeployerApi(stack, TOKEN));
});
afterAll(async () => {
  await app?.close();
  await stack?.close();
});

function waitForRollout(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'rollout', 'create', '-f', file, '--wait'], {
    env: { PATH: process.env.PATH, OLEADA_URL: url, OLEADA_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('oleada rollout create --wait with the real engine', () => {
  it('follows a good version through both waves and exits 0', async () => {
    const file = join(stack.dir, 'good.yaml');
    await writeFile(file, stringify(rolloutFile(stack)));
    const result = await waitForRollout(file);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^checkout 1\.1\.0: succeeded/);
    // One line per engine event, each with a time and a wave/cluster column, and both clusters in order.
    const eventLines = lines.slice(1, -1);
    expect(eventLines.length).toBeGreaterThan(4);
    for (const line of eventLines) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}\S+ {2,}\S/);
      expect(line).not.toContain('(by ');
    }
    const [staging, europe] = stack.clusters;
    expect(result.stdout.indexOf(`canary/${staging}`)).toBeGreaterThan(-1);
    expect(result.stdout.indexOf(`europe/${europe}`)).toBeGreaterThan(result.stdout.indexOf(`canary/${staging}`));
  });

  it('follows a version that returns errors until it is rolled back, and exits 1', async () => {
    const file = join(stack.dir, 'bad.yaml');
    await writeFile(file, stringify(rolloutFile(stack, { image: 'registry.example.com/checkout:1.2.0-errors' })));
    const result = await waitForRollout(file);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(result.stdout.trim().split('\n').at(-1)).toMatch(/^checkout 1\.2\.0-errors: rolled_back/);
    expect(result.stdout).toMatch(/error-rate/);
  });
});
