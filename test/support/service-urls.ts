import { fileURLToPath } from 'node:url';

/** The project's script that starts, stops and describes the real services (tests and benchmarks both use it). */
export const SERVICES_SCRIPT = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

/** Reads what `scripts/services.sh env` prints: one `NAME='value'` per line. */
export function parseServicesEnv(output: string): Record<string, string> {
  return Object.fromEntries([...output.matchAll(/^(\w+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The same server's URL, naming another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
