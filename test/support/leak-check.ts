import { afterEach, beforeEach } from 'vitest';

// Kinds of libuv handle that a test must give back: servers, client connections and child processes.
const WATCHED = ['TCPServerWrap', 'TCPSocketWrap', 'ProcessWrap', 'PipeServerWrap'];

function counts(): Map<string, number> {
  const result = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.includes(kind)) result.set(kind, (result.get(kind) ?? 0) + 1);
  }
  return result;
}

function excess(baseline: Map<string, number>): string[] {
  const now = counts();
  return WATCHED.filter((kind) => (now.get(kind) ?? 0) > (baseline.get(kind) ?? 0)).map(
    (kind) => `${kind}: ${baseline.get(kind) ?? 0} before, ${now.get(kind) ?? 0} after`,
  );
}

let baseline = new Map<string, number>();

beforeEach(() => {
  baseline = counts();
});

/** Fails a test that leaves a server, a connection or a child process open after it ends. */
afterEach(async () => {
  // Keep-alive sockets (fetch closes idle ones after 4 s) and pool connections need a moment to go.
  const deadline = Date.now() + 6_000;
  let leaked = excess(baseline);
  while (leaked.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    leaked = excess(baseline);
  }
  if (leaked.length > 0) {
    throw new Error(`the test leaked open handles (${leaked.join('; ')}): close every server, worker, pool and child it starts`);
  }
});
