import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const OLEADA_BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

export interface Child {
  process: ChildProcess;
  /** Everything printed so far on stdout and stderr (the last 100-200 kB of a chatty child). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output, or rejects after `timeoutMs` or at exit. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Sends SIGKILL if it is still running, and waits for it. */
  kill(): Promise<void>;
}

/** Runs `node <args>` with only the given environment (plus PATH and HOME), keeping its output. */
export function spawnNode(args: string[], env: Record<string, string>): Child {
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
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    process: child,
    output: () => output,
    exited,
    // Generous: a child started from stale sources compiles its TypeScript at start, which takes seconds when busy.
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
          check();
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
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs `oleada <args>` as a child process, as a user or CI would. */
export function runOleada(args: string[], env: Record<string, string>, nodeArgs: string[] = []): Child {
  return spawnNode([...nodeArgs, OLEADA_BIN, ...args], env);
}
