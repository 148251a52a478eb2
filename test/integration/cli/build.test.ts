import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/store/pool.ts';
import { services, uniqueName, withDatabase } from '../../support/services.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

// The compiled JavaScript is what bin.js runs once `npm run build` has run; compile a copy of it and drive it.
describe('the compiled build', () => {
  // Inside the repository, as .oleada/build is, so that the build finds migrations/ the same way.
  mkdirSync(join(root, '.oleada'), { recursive: true });
  const out = mkdtempSync(join(root, '.oleada', 'test-build-'));
  const database = uniqueName('oleada_build');
  const admin = (sql: string) => {
    const pool = createPool(services().databaseUrl, { max: 1 });
    return pool.query(sql).finally(() => pool.end());
  };
  beforeAll(async () => {
    execFileSync('npx', ['--no-install', 'tsc', '-p', 'scripts/tsconfig.build.json', '--outDir', out], { cwd: root, stdio: 'pipe' });
    await admin(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    rmSync(out, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    execFileSync(process.execPath, [join(out, 'cli/main.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', stdio: 'pipe' });

  it('runs the CLI and finds the migrations from the build directory', () => {
    expect(run(['--help'])).toMatch(/Usage: oleada <command>/);
    const url = withDatabase(services().databaseUrl, database);
    expect(run(['migrate'], { DATABASE_URL: url })).toMatch(/^applied migrations 1, 2\b/);
    expect(run(['migrate'], { DATABASE_URL: url })).toMatch(/schema is current/);
  });
});
