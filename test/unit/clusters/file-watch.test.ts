import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadClustersFile, watchClustersFile, type ClusterEntry, type ClustersFileWatch } from '../../../src/clusters/file.ts';

let dir: string;
let file: string;
let watch: ClustersFileWatch | undefined;

const clusters = (...names: string[]) =>
  `clusters:\n${names.map((name) => `  - { name: ${name}, kubeconfig: kubeconfig, prometheus: { url: "http://p:9090" } }\n`).join('')}`;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oleada-watch-'));
  file = join(dir, 'clusters.yaml');
  await writeFile(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  await writeFile(file, clusters('a'));
});

afterEach(async () => {
  watch?.close();
  watch = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Waits until `check` holds, failing with `what` after a deadline; file events arrive when the kernel sends them. */
async function until(check: () => boolean, what: string, deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function recorder() {
  const changes: ClusterEntry[][] = [];
  const errors: Error[] = [];
  return {
    changes,
    errors,
    onChange: (entries: ClusterEntry[]) => changes.push(entries),
    onError: (err: Error) => errors.push(err),
    names: () => changes.map((entries) => entries.map((entry) => entry.name).join(',')),
  };
}

describe('watchClustersFile', () => {
  it('reports the new list when the file is edited in place', async () => {
    const seen = recorder();
    watch = watchClustersFile(file, seen.onChange, seen.onError, { initial: await loadClustersFile(file), debounceMs: 20 });
    await writeFile(file, clusters('a', 'b'));
    await until(() => seen.changes.length === 1, 'the edit');
    expect(seen.names()).toEqual(['a,b']);
    expect(seen.errors).toEqual([]);
  });

  it('reports a file replaced by rename, as editors and ConfigMap mounts do', async () => {
    const seen = recorder();
    watch = watchClustersFile(file, seen.onChange, seen.onError, { initial: await loadClustersFile(file), debounceMs: 20 });
    await writeFile(join(dir, '.clusters.yaml.tmp'), clusters('c'));
    await rename(join(dir, '.clusters.yaml.tmp'), file);
    await until(() => seen.changes.length === 1, 'the replacement');
    expect(seen.names()).toEqual(['c']);
  });

  it('keeps the last good list on a bad edit, reports the error, and picks up the next good edit', async () => {
    const seen = recorder();
    watch = watchClustersFile(file, seen.onChange, seen.onError, { initial: await loadClustersFile(file), debounceMs: 20 });
    await writeFile(file, clusters('a', 'a'));
    await until(() => seen.errors.length === 1, 'the error');
    expect(seen.errors[0]!.message).toMatch(/cluster name a is already used at \/clusters\/0/);
    expect(seen.changes).toEqual([]);

    await writeFile(file, clusters('a', 'b'));
    await until(() => seen.changes.length === 1, 'the fix');
    expect(seen.names()).toEqual(['a,b']);
    expect(seen.errors).toHaveLength(1);
  });

  it('stays quiet when a save does not change the list', async () => {
    const seen = recorder();
    watch = watchClustersFile(file, seen.onChange, seen.onError, { initial: await loadClustersFile(file), debounceMs: 20 });
    await writeFile(file, `# a comment\n${clusters('a')}`);
    await writeFile(join(dir, 'unrelated.txt'), 'x');
    // Give the quiet saves time to be reloaded on their own (the debounce is 20 ms), so that a wrong report would show.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The next real change is the proof that the watcher was live all along.
    await writeFile(file, clusters('z'));
    await until(() => seen.changes.length >= 1, 'the real change');
    expect(seen.names()).toEqual(['z']);
  });

  it('reads the file itself at start when not given the current list', async () => {
    const seen = recorder();
    watch = watchClustersFile(file, seen.onChange, seen.onError, { debounceMs: 20 });
    await writeFile(file, clusters('a', 'n'));
    await until(() => seen.changes.length === 1, 'the edit');
    expect(seen.names()).toEqual(['a,n']);
  });

  it('reports nothing after close', async () => {
    const seen = recorder();
    watch = watchClustersFile(file, seen.onChange, seen.onError, { initial: await loadClustersFile(file), debounceMs: 20 });
    watch.close();
    await writeFile(file, clusters('a', 'b'));
    // Only absence can be checked here, so give a live watcher ample time to have reported.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.changes).toEqual([]);
  });

  it('reports a folder that cannot be watched through onError', async () => {
    const seen = recorder();
    watch = watchClustersFile(join(dir, 'missing', 'clusters.yaml'), seen.onChange, seen.onError, { initial: [] });
    await until(() => seen.errors.length === 1, 'the error');
    expect((seen.errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
