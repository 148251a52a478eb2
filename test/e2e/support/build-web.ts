import { execFileSync } from 'node:child_process';
import { webBuildIsFresh } from '../../../src/cli/build.js';

/** The browser tests load the built dashboard; build it when the sources are newer (as scripts/setup.sh does). */
export default function setup(): void {
  if (webBuildIsFresh()) return;
  execFileSync('npx', ['vite', 'build', '--config', 'src/web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
}
