import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/*
 * Fails tests that leave things open. Two levels, because a test file may hold a whole Oleada (pools, queues, Kubernetes
 * clients with keep-alive connections) from its beforeAll to its afterAll:
 * - after each test: no server and no child process may be left over from the test itself;
 * - after the file: every connection the file opened, its hooks included, must be closed too.
 * This setup file's afterAll runs after the test file's own afterAll hooks (vitest runs after-hooks as a stack).
 */

const PER_TEST = ['TCPServerWrap', 'PipeServerWrap', 'ProcessWrap'];
const PER_FILE = [...PER_TEST, 'TCPSocketWrap'];

function counts(kinds: string[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (kinds.includes(kind)) result.set(kind, (result.get(kind) ?? 0) + 1);
  }
  return result;
}

function excess(kinds: string[], baseline: Map<string, number>): string[] {
  const now = counts(kinds);
  return kinds
    .filter((kind) => (now.get(kind) ?? 0) > (baseline.get(kind) ?? 0))
    .map((kind) => `${kind}: ${baseline.get(kind) ?? 0} before, ${now.get(kind) ?? 0} after`);
}

async function check(kinds: string[], baseline: Map<string, number>, what: string): Promise<void> {
  // Closing is asynchronous, and fetch keeps idle sockets for 4 s: give them a moment to go.
  const deadline = Date.now() + 6_000;
  let leaked = excess(kinds, baseline);
  while (leaked.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    leaked = excess(kinds, baseline);
  }
  if (leaked.length > 0) {
    throw new Error(`${what} leaked open handles (${leaked.join('; ')}): close every server, worker, pool and child it starts`);
  }
}

let fileBaseline = new Map<string, number>();
let testBaseline = new Map<string, number>();

beforeAll(() => {
  fileBaseline = counts(PER_FILE);
});

beforeEach(() => {
  testBaseline = counts(PER_TEST);
});

afterEach(async () => {
  await check(PER_TEST, testBaseline, 'the test');
});

afterAll(async () => {
  await check(PER_FILE, fileBaseline, 'the test file');
}, 15_000);
