// Plain JavaScript, because bin.js needs it before anything can load TypeScript.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where `npm run build` (scripts/tsconfig.build.json) writes the compiled JavaScript, and its entry point. */
export const BUILD_DIR = join(ROOT, '.oleada/build');
export const BUILD_ENTRY = join(BUILD_DIR, 'cli/main.js');

function mtimes(dir, suffix) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
}

/**
 * Whether the compiled build can stand in for the sources: it exists and is newer than every .ts file under src/.
 * After an edit it is not, and bin.js runs the sources through tsx instead, so nobody ever runs stale code.
 */
export function buildIsFresh(srcDir = join(ROOT, 'src'), buildDir = BUILD_DIR) {
  if (!statSync(join(buildDir, 'cli/main.js'), { throwIfNoEntry: false })) return false;
  // Every compiled file must be newer than every source (`npm run build` starts from an empty directory).
  return Math.min(...mtimes(buildDir, '.js')) >= Math.max(...mtimes(srcDir, '.ts'));
}

/** Where Vite writes the dashboard (src/web/vite.config.ts); src/api/dashboard.ts serves it. */
export const WEB_BUILD_DIR = join(BUILD_DIR, 'web');

/** Whether the built dashboard is newer than every file of its sources (src/web) and of the lock file. */
export function webBuildIsFresh(webDir = join(ROOT, 'src/web'), buildDir = WEB_BUILD_DIR) {
  const index = statSync(join(buildDir, 'index.html'), { throwIfNoEntry: false });
  if (!index) return false;
  const sources = [...mtimes(webDir, ''), statSync(join(ROOT, 'package-lock.json')).mtimeMs];
  return index.mtimeMs >= Math.max(...sources);
}
