import { parseCommandArgs, UsageError, type Command } from './command.ts';
import { ConfigError } from '../config.ts';

/** Every sub-command, loaded lazily so that `oleada sim` does not pay for the API's imports. */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.ts')).serveCommand,
  api: async () => (await import('./commands/serve.ts')).apiCommand,
  worker: async () => (await import('./commands/serve.ts')).workerCommand,
  migrate: async () => (await import('./commands/migrate.ts')).migrateCommand,
  sim: async () => (await import('./commands/sim.ts')).simCommand,
  rollout: async () => (await import('./commands/rollout.ts')).rolloutCommand,
  token: async () => (await import('./commands/token.ts')).tokenCommand,
  cluster: async () => (await import('./commands/cluster.ts')).clusterCommand,
};

function topLevelHelp(summaries: [string, string][]): string {
  const width = Math.max(...summaries.map(([name]) => name.length));
  return [
    'oleada: progressive multi-cluster rollouts',
    '',
    'Usage: oleada <command> [options]',
    '',
    'Commands:',
    ...summaries.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    'Run `oleada <command> --help` for the options of a command.',
  ].join('\n');
}

function describe(err: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = err; current !== undefined && parts.length < 4; current = (current as { cause?: unknown }).cause) {
    const message = current instanceof Error ? current.message || current.name : String(current);
    if (message && !parts.includes(message)) parts.push(message);
    if (!(current instanceof Error)) break;
  }
  return parts.join(': ') || 'failed';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const loaded = await Promise.all(Object.values(commands).map((load) => load()));
    console.log(topLevelHelp(loaded.map((c) => [c.name, c.summary])));
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`oleada: unknown command "${name}" (known: ${Object.keys(commands).join(', ')}). Run \`oleada --help\`.`);
    return 2;
  }
  const command = await load();
  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help) {
      console.log(command.usage);
      return 0;
    }
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`oleada ${command.name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`oleada ${command.name}: ${err.message}`);
      return 2;
    }
    // Anything else is still said in one readable line (with its causes); the stack only on request.
    console.error(`oleada ${command.name}: ${describe(err)}`);
    if (process.env.OLEADA_DEBUG) console.error(err);
    return 1;
  }
}

// Exit explicitly: a command that returned has closed what it opened, and a stray handle must not keep us alive.
process.exit(await main(process.argv.slice(2)));
