import { runOleada as runOleadaChild, spawnNode, type Child as BaseChild } from '../../support/processes.ts';
import { cpuSeconds, memoryMB } from './machine.ts';

/** A child process whose output is kept, whose CPU and memory can be read, and which is always stopped. */
export interface Child extends BaseChild {
  pid: number;
  /** CPU seconds (user + system) used so far. */
  cpu(): number;
  /** Peak (VmHWM) and current RSS in MB. */
  memory(): { peak: number; current: number };
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Child>();

function tracked(base: BaseChild): Child {
  const child = base.process;
  const handle: Child = {
    ...base,
    pid: child.pid!,
    cpu: () => cpuSeconds(child.pid!),
    memory: () => memoryMB(child.pid!),
    async stop(graceMs = 15_000) {
      running.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await base.exited;
      clearTimeout(timer);
    },
  };
  running.add(handle);
  return handle;
}

/** `oleada <args>`, as an operator runs it. */
export function runOleada(args: string[], env: Record<string, string>, nodeArgs: string[] = []): Child {
  return tracked(runOleadaChild(args, env, nodeArgs));
}

/** A TypeScript module of the benchmark run as its own process (through tsx, like the oleada command). */
export function runScript(path: string, args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Child {
  return tracked(spawnNode([...nodeArgs, '--import', 'tsx', path, ...args], env));
}

/** Stops every child still running: called on the way out, whatever happened. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(5_000)));
}
