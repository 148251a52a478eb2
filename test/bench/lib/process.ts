import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, memoryMB } from './machine.ts';

export const OLEADA_BIN = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));

/** A child process whose output is kept, whose CPU and memory can be read, and which is always stopped. */
export interface Child {
  process: ChildProcess;
  pid: number;
  output(): string;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** CPU seconds (user + system) used so far. */
  cpu(): number;
  /** Peak (VmHWM) and current RSS in MB. */
  memory(): { peak: number; current: number };
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Child>();

function spawnChild(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    // Keep the tail only: a chatty child must not grow this process.
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: Child = {
    process: child,
    pid: child.pid!,
    output: () => output,
    waitForLine(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; output so far:\n${output.slice(-4000)}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`the process exited before printing ${pattern}; output:\n${output.slice(-4000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
    cpu: () => cpuSeconds(child.pid!),
    memory: () => memoryMB(child.pid!),
    async stop(graceMs = 15_000) {
      running.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(handle);
  return handle;
}

/** `oleada <args>`, as an operator runs it. */
export function runOleada(args: string[], env: Record<string, string>, nodeArgs: string[] = []): Child {
  return spawnChild([...nodeArgs, OLEADA_BIN, ...args], env);
}

/** A TypeScript module of the benchmark run as its own process (through tsx, like the oleada command). */
export function runScript(path: string, args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Child {
  return spawnChild([...nodeArgs, '--import', 'tsx', path, ...args], env);
}

/** Stops every child still running: called on the way out, whatever happened. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(5_000)));
}
