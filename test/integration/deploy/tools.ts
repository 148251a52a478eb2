import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART = `${ROOT}deploy/helm/oleada`;
const TOOLS_BIN = `${ROOT}.oleada/tools/bin`;
const run = promisify(execFile);

/** helm v4 or kubectl v1.33 as installed by scripts/install-k8s-tools.sh; Debian's kubectl is too old for these tests. */
export function k8sTool(name: 'helm' | 'kubectl'): string {
  const path = `${TOOLS_BIN}/${name}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/install-k8s-tools.sh (scripts/setup.sh --test does)`);
  return path;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm or kubectl and returns its exit code and output, whether it failed or not. */
export async function runTool(name: 'helm' | 'kubectl', args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(k8sTool(name), args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
      timeout: options.timeoutMs ?? 90_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Like runTool, but a non-zero exit is an error that carries what the tool printed. */
export async function mustRun(name: 'helm' | 'kubectl', args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<string> {
  const result = await runTool(name, args, options);
  if (result.code !== 0) throw new Error(`${name} ${args.join(' ')} exited ${result.code}:\n${result.stderr || result.stdout}`);
  return result.stdout;
}
