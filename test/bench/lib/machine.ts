import { cpus, loadavg, release, totalmem, uptime } from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Which machine a run measured: the figures mean little without it. */
export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  kernel: string;
  memoryGB: number;
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  loadAtStart: number[];
  loadAtEnd?: number[];
  /** Processes other than this benchmark that used more than 5% of a core just before the run started. */
  busyAtStart?: string[];
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    kernel: release(),
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAtStart: loadavg().map(round2),
  };
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export function loadText(load: number[]): string {
  return load.map((v) => v.toFixed(2)).join(' ');
}

export function machineText(machine: Machine): string {
  const lines = [
    `machine: ${machine.cores} cores, ${machine.cpuModel}, ${machine.memoryGB} GB, Node ${machine.node}, Linux ${machine.kernel}`,
    `load average at start: ${loadText(machine.loadAtStart)} (1/5/15 min)${machine.loadAtEnd ? `, at end: ${loadText(machine.loadAtEnd)}` : ''}`,
  ];
  if (machine.busyAtStart && machine.busyAtStart.length > 0) lines.push(`busy at start: ${machine.busyAtStart.join('; ')}`);
  return lines.join('\n');
}

/** CPU clock ticks per second, the unit of /proc/<pid>/stat's times. */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Total CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses; the fields after the last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 here, counting from 1 after "state".
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

/** Peak and current resident set size in MB, from /proc/<pid>/status (VmHWM, VmRSS). */
export function memoryMB(pid: number): { peak: number; current: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { peak: kb('VmHWM') / 1024, current: kb('VmRSS') / 1024 };
}

/** Uptime in seconds, to turn /proc start times into ages. */
export function systemUptime(): number {
  return uptime();
}

/**
 * Other processes that were busy over a short window: a benchmark on a shared machine should say what it competed with.
 * Reads /proc twice, `windowMs` apart.
 */
export async function busyProcesses(windowMs = 1_000, exclude: number[] = [process.pid]): Promise<string[]> {
  const sample = () => {
    const out = new Map<number, { cpu: number; name: string }>();
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || exclude.includes(pid)) continue;
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        const name = cmdline.slice(0, 80) || `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
        out.set(pid, { cpu: cpuSeconds(pid), name });
      } catch {
        // The process ended between the listing and the read.
      }
    }
    return out;
  };
  const before = sample();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = sample();
  const busy: { name: string; share: number }[] = [];
  for (const [pid, { cpu, name }] of after) {
    const was = before.get(pid);
    if (!was) continue;
    const share = (cpu - was.cpu) / (windowMs / 1000);
    if (share > 0.05) busy.push({ name: `${name} (pid ${pid})`, share });
  }
  return busy.sort((a, b) => b.share - a.share).map((b) => `${Math.round(b.share * 100)}% ${b.name}`);
}

/** The parent pid of a process, from /proc/<pid>/stat. */
function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by the Redis, PostgreSQL and Prometheus that scripts/services.sh started for this checkout
 * (found by their pid files under the run directory, not by name: other checkouts on the machine run their own).
 * PostgreSQL counts its postmaster and every backend it forked; a backend that exits between two readings takes its
 * time with it, so for PostgreSQL the difference of two readings is a lower bound. NaN for a service not found.
 */
export function serviceCpu(runDir: string): Record<'postgres' | 'redis' | 'prometheus', number> {
  const one = (pid: number | undefined) => {
    if (pid === undefined) return Number.NaN;
    try {
      return cpuSeconds(pid);
    } catch {
      return Number.NaN;
    }
  };
  const postmaster = readPid(`${runDir}/postgres/data/postmaster.pid`);
  let postgres = one(postmaster);
  if (postmaster !== undefined && Number.isFinite(postgres)) {
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      try {
        if (parentPid(pid) === postmaster) postgres += cpuSeconds(pid);
      } catch {
        // Gone between the listing and the read.
      }
    }
  }
  return {
    postgres,
    redis: one(readPid(`${runDir}/redis/redis.pid`)),
    prometheus: one(readPid(`${runDir}/prometheus/prometheus.pid`)),
  };
}

/** This process's CPU seconds (user + system). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
