import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('docker-compose.yml', () => {
  it('is valid for docker-compose and runs redis, postgres, prometheus and oleada', () => {
    let output: string;
    try {
      output = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new Error('docker-compose is not installed: install the Debian package docker-compose (scripts/setup.sh --test does)');
      throw new Error(`docker-compose rejected the file: ${e.stderr ?? e.message}`);
    }
    const config = parse(output) as { services: Record<string, { environment?: Record<string, string>; build?: { dockerfile?: string } }> };
    expect(Object.keys(config.services).sort()).toEqual(['oleada', 'postgres', 'prometheus', 'redis']);
    expect(config.services.oleada!.environment).toMatchObject({
      DATABASE_URL: expect.stringMatching(/^postgres:\/\/.*@postgres:5432\//),
      REDIS_URL: 'redis://redis:6379',
    });
  });

  it('builds oleada from a Dockerfile whose copied paths exist', () => {
    const dockerfile = readFileSync(`${root}/deploy/Dockerfile`, 'utf8');
    // Paths copied from the build context; `COPY --from=build` copies from an earlier stage instead.
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(copied.length).toBeGreaterThan(0);
    for (const path of copied) expect(existsSync(`${root}/${path}`), path).toBe(true);
  });
});
