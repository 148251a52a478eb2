import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildIsFresh } from '../../../src/cli/build.js';

describe('buildIsFresh', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A source tree and a build, each file written with the given modification time (seconds). */
  function tree(sources: Record<string, number>, built: Record<string, number>) {
    dir = mkdtempSync(join(tmpdir(), 'oleada-build-'));
    for (const [base, files] of [['src', sources], ['build', built]] as const) {
      for (const [file, mtime] of Object.entries(files)) {
        const path = join(dir, base, file);
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, '');
        utimesSync(path, mtime, mtime);
      }
    }
    return { src: join(dir, 'src'), build: join(dir, 'build') };
  }

  it('takes a build that is newer than every source', () => {
    const { src, build } = tree({ 'cli/main.ts': 100, 'engine/decide.ts': 200 }, { 'cli/main.js': 300, 'engine/decide.js': 300 });
    expect(buildIsFresh(src, build)).toBe(true);
  });

  it('refuses a build once any source is edited after it', () => {
    const { src, build } = tree({ 'cli/main.ts': 100, 'engine/decide.ts': 400 }, { 'cli/main.js': 300, 'engine/decide.js': 300 });
    expect(buildIsFresh(src, build)).toBe(false);
  });

  it('refuses a build with a file older than a source, whichever it is', () => {
    const { src, build } = tree({ 'cli/main.ts': 100, 'engine/decide.ts': 200 }, { 'cli/main.js': 300, 'engine/decide.js': 150 });
    expect(buildIsFresh(src, build)).toBe(false);
  });

  it('refuses a missing build or one without the entry point', () => {
    const { src } = tree({ 'cli/main.ts': 100 }, { 'engine/decide.js': 300 });
    expect(buildIsFresh(src, join(dir, 'build'))).toBe(false);
    expect(buildIsFresh(src, join(dir, 'nowhere'))).toBe(false);
  });
});
