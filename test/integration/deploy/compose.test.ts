import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadClustersFile } from '../../../src/clusters/file.ts';
import { freePort } from '../../support/redis.ts';
import { waitFor } from '../../support/wait.ts';
import { ROOT as root } from './tools.ts';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  network_mode?: string;
  volumes?: ({ type: string; source: string; target: string; read_only?: boolean } | string)[];
  depends_on?: Record<string, { condition: string }>;
}

function composeConfig(): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  let output: string;
  try {
    output = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('docker-compose is not installed: install the Debian package docker-compose (scripts/setup.sh --test does)');
    throw new Error(`docker-compose rejected the file: ${e.stderr ?? e.message}`);
  }
  return parse(output) as never;
}

/** Bind mounts as [host path, container path]; docker-compose v1 prints them as "SRC:DST[:ro]" strings. */
function bindMounts(service: ComposeService): [string, string][] {
  return (service.volumes ?? []).flatMap((v): [string, string][] => {
    if (typeof v !== 'string') return v.type === 'bind' ? [[v.source, v.target]] : [];
    const [source, target] = v.split(':');
    return source!.startsWith('/') ? [[source!, target!]] : [];
  });
}

describe('docker-compose.yml', () => {
  const config = composeConfig();
  const { services } = config;

  it('is valid for docker-compose and runs redis, postgres, prometheus, kube-sim, oleada and the demo', () => {
    expect(Object.keys(services).sort()).toEqual(['demo', 'kube-sim', 'oleada', 'postgres', 'prometheus', 'redis']);
    expect(services.oleada!.environment).toMatchObject({
      DATABASE_URL: expect.stringMatching(/^postgres:\/\/.*@postgres:5432\//),
      REDIS_URL: 'redis://redis:6379',
    });
    // kube-sim serves on 127.0.0.1, so whatever talks to it lives in its network namespace.
    for (const name of ['prometheus', 'oleada', 'demo']) expect(services[name]!.network_mode, name).toBe('service:kube-sim');
    expect(services.demo!.depends_on).toMatchObject({ oleada: { condition: 'service_healthy' } });
  });

  it('mounts only files and folders that exist in the repository, and every path Oleada reads is inside a mount', () => {
    const mounted = Object.values(services).flatMap(bindMounts);
    expect(mounted.length).toBeGreaterThanOrEqual(5);
    for (const [source] of mounted) expect(existsSync(source), `${source} is mounted but does not exist`).toBe(true);
    for (const [source] of mounted) expect(source.startsWith(root), `${source} lies outside the repository`).toBe(true);

    const volumeTargets = (service: ComposeService) =>
      (service.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1]! : v.target));
    const oleada = services.oleada!;
    for (const variable of ['OLEADA_CLUSTERS_FILE', 'OLEADA_TOKENS_FILE']) {
      const path = oleada.environment![variable]!;
      expect(volumeTargets(oleada).some((target) => path.startsWith(`${target}/`)), `${variable}=${path} is in no volume of oleada`).toBe(true);
    }
    // The scripts the entry points run are mounted where they are looked for.
    for (const name of ['kube-sim', 'demo']) {
      const script = services[name]!.entrypoint!.at(-1)!;
      const mount = bindMounts(services[name]!).find(([, target]) => script.startsWith(`${target}/`));
      expect(mount, `${name} runs ${script}, which no bind mount provides`).toBeDefined();
      expect(existsSync(mount![0] + script.slice(mount![1].length))).toBe(true);
    }
  });

  it("scrapes the simulated clusters on the ports kube-sim is given, and loads Oleada's alerts; promtool accepts the config", async () => {
    const prometheusYml = bindMounts(services.prometheus!).find(([, target]) => target === '/etc/prometheus/prometheus.yml')![0];
    const prom = parse(readFileSync(prometheusYml, 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: { cluster?: string } }[] }[];
    };
    const sim = prom.scrape_configs.find((c) => c.job_name === 'kube-sim')!;
    const startSim = readFileSync(`${root}/deploy/compose/start-sim.sh`, 'utf8');
    const metricsPorts = /OLEADA_SIM_METRICS_PORTS:-([\d,]+)/.exec(startSim)![1]!.split(',');
    const clusters = /--clusters ([\w,-]+)/.exec(startSim)![1]!.split(',');
    expect(sim.static_configs.map((s) => [s.labels?.cluster, s.targets[0]])).toEqual(clusters.map((c, i) => [c, `127.0.0.1:${metricsPorts[i]}`]));

    // Every rule file must be mounted; promtool then checks the config with the mounted paths mapped back.
    const mounts = bindMounts(services.prometheus!);
    const dir = await mkdtemp(join(tmpdir(), 'compose-prometheus-'));
    try {
      const ruleFiles = prom.rule_files.map((file) => {
        const mount = mounts.find(([, target]) => target === file);
        expect(mount, `rule file ${file} is not mounted into prometheus`).toBeDefined();
        return mount![0];
      });
      await writeFile(join(dir, 'prometheus.yml'), JSON.stringify({ ...prom, rule_files: ruleFiles }));
      const out = execFileSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8', stdio: 'pipe' });
      expect(out).toContain('SUCCESS');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('builds oleada from a Dockerfile whose copied paths exist', () => {
    const dockerfile = readFileSync(`${root}/deploy/Dockerfile`, 'utf8');
    // Paths copied from the build context; `COPY --from=build` copies from an earlier stage instead.
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(copied.length).toBeGreaterThan(0);
    for (const path of copied) expect(existsSync(`${root}/${path}`), path).toBe(true);
    expect(services['kube-sim']!.build?.dockerfile).toBe('deploy/Dockerfile');
  });

  it("kube-sim's start script makes the demo token once, keeps it private, and writes a clusters file Oleada loads", async () => {
    const state = await mkdtemp(join(tmpdir(), 'compose-sim-'));
    const ports = [await freePort(), await freePort(), await freePort()];
    const metricsPorts = [await freePort(), await freePort(), await freePort()];
    const start = () => {
      const child = spawn('sh', ['deploy/compose/start-sim.sh'], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          OLEADA_DEMO_STATE: state,
          OLEADA_DEMO_FILES: `${root}/deploy/examples/demo`,
          OLEADA_SIM_PORTS: ports.join(','),
          OLEADA_SIM_METRICS_PORTS: metricsPorts.join(','),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      return { child, output: () => output, exited };
    };
    const stop = async (run: ReturnType<typeof start>) => {
      run.child.kill('SIGTERM');
      await run.exited;
    };
    try {
      const first = start();
      try {
        await waitFor('the three clusters to be ready', () => (first.output().match(/^cluster \S+ ready/gm) ?? []).length === 3 || undefined, 60_000);
      } finally {
        await stop(first);
      }
      const token = readFileSync(join(state, 'token'), 'utf8').trim();
      expect(first.output()).not.toContain(token);
      expect(statSync(join(state, 'token')).mode & 0o077).toBe(0);
      expect(statSync(join(state, 'tokens.yaml')).mode & 0o077).toBe(0);
      const tokens = parse(readFileSync(join(state, 'tokens.yaml'), 'utf8')) as { tokens: { name: string; role: string; sha256: string }[] };
      expect(tokens.tokens).toEqual([expect.objectContaining({ name: 'compose-demo', role: 'admin', sha256: createHash('sha256').update(token).digest('hex') })]);

      const clusters = await loadClustersFile(join(state, 'clusters.yaml'));
      expect(clusters.map((c) => [c.name, c.prometheus.url])).toEqual([
        ['staging-eu', 'http://127.0.0.1:9090'],
        ['prod-eu-1', 'http://127.0.0.1:9090'],
        ['prod-us-1', 'http://127.0.0.1:9090'],
      ]);

      // A restart keeps the token: the volume outlives the container.
      const second = start();
      try {
        await waitFor('the clusters to be ready again', () => (second.output().match(/^cluster \S+ ready/gm) ?? []).length === 3 || undefined, 60_000);
      } finally {
        await stop(second);
      }
      expect(readFileSync(join(state, 'token'), 'utf8').trim()).toBe(token);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
