/**
 * `oleada rollout ...`: the client commands that CI pipelines and people use against the API. Exit codes: 0 done (or
 * the rollout succeeded), 1 the rollout ended rolled back, aborted or failed (or diff found changes), 2 a usage or API
 * error, 3 `--timeout` passed while the rollout still ran.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { toError } from '../../errors.ts';
import { stringOption, UsageError, type Command, type ParsedArgs } from '../command.ts';
import { loadClientEnv } from '../client/env.ts';
import { ApiClient, ApiError, type RequestBody } from '../client/http.ts';
import { commandText, errorText, listText, plainEventLine, planText, statusText } from '../client/render.ts';
import type { EventPage, PlanPreview, RolloutPage, RolloutStatus, StoredCommand } from '../client/types.ts';
import { exitCodeFor, followToEnd, waitForEnd, type Output, type OutputMode } from './rollout-wait.ts';
import { diffFile, historyOf, undoApp } from './rollout-history.ts';
import { sendCommand } from '../client/retry.ts';
import { parseDuration } from '../../spec/duration.ts';
import { stringify as stringifyYaml } from 'yaml';

const COMMANDS = ['promote', 'approve', 'pause', 'resume', 'abort'] as const;

const USAGE = `Usage: oleada rollout <sub-command> [options]

  create -f FILE [--wait [--timeout 30m]] [--idempotency-key K] [--supersede]
                      start a rollout from a YAML or JSON file; --wait follows it to the end
  wait ID [--timeout 30m]
                      follow a running rollout to its end (or the timeout)
  plan -f FILE        show the resolved plan (waves, clusters, steps, queries) without starting anything
  diff -f FILE        what the file changes against the app's last rollout: image, steps, waves and clusters,
                      metrics; exit 0 when nothing, 1 when something (like kubectl diff)
  get ID [-o yaml]    the whole status of a rollout; -o yaml prints the rollout file, which create -f takes again
  list [--app A] [--phase P] [--limit N] [--cursor C]
                      rollouts, newest first
  history APP [--limit N]
                      the app's rollouts: revision, version, outcome, who started each and when
  undo APP [--to-revision N | --to-version V] [--wait [--timeout 30m]] [--supersede]
                      start again an earlier version (default: the last succeeded one before the current), with
                      the waves and analysis it ran with
  promote|approve|pause|resume|abort ID [--cluster C] [--wave W] [--full] [--reason R] [--if-revision N]
                      give a running rollout a command; --if-revision refuses it (412) if the rollout has
                      moved on from the revision \`get\` showed
  events ID [--follow]
                      the rollout's events; --follow streams them until the rollout ends

Commands (and undo) are sent with a fresh Idempotency-Key that the CLI reuses when it retries them after a lost
answer, so a retry never acts twice.

Options:
  -o, --output text|json|yaml   json prints one JSON object per line (events), then the final status
  --timeout D              with --wait or wait: give up after D (30s, 10m, 1h) with exit code 3
  -h, --help               this help

Environment:
  OLEADA_URL     the API (default http://127.0.0.1:8080)
  OLEADA_TOKEN   the bearer token (\`oleada token create\` makes one)

Exit codes: 0 done or the rollout succeeded (diff: no changes); 1 the rollout was rolled back, aborted or failed
(diff: changes); 2 a usage error or an error from the API (its detail is printed); 3 --timeout passed while the
rollout still ran (the last line says where it stands and who may act).`;

/** Which options each sub-command takes, so a misplaced one is a usage error instead of silently ignored. */
const ALLOWED: Record<string, string[]> = {
  create: ['file', 'wait', 'timeout', 'idempotency-key', 'supersede', 'output'],
  wait: ['timeout', 'output'],
  plan: ['file', 'output'],
  diff: ['file', 'output'],
  get: ['output'],
  history: ['limit', 'output'],
  undo: ['to-revision', 'to-version', 'wait', 'timeout', 'idempotency-key', 'supersede', 'output'],
  list: ['app', 'phase', 'limit', 'cursor', 'output'],
  events: ['follow', 'output'],
  ...Object.fromEntries(COMMANDS.map((c) => [c, ['cluster', 'wave', 'full', 'reason', 'if-revision', 'output']])),
};

const stdio: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  get columns() {
    // A pseudo-terminal without a size (a CI runner's, `script`) reports 0 columns: draw at a common width instead.
    return process.stdout.columns || 120;
  },
};

function outputMode(args: ParsedArgs): OutputMode {
  const output = stringOption(args, 'output') ?? 'text';
  if (output === 'json') return 'json';
  if (output === 'yaml' && args.positionals[0] !== 'get') throw new UsageError('--output yaml applies to `rollout get` only');
  if (output !== 'text' && output !== 'yaml') throw new UsageError(`--output must be text, json or yaml, got "${output}"`);
  return process.stdout.isTTY ? 'tty' : 'plain';
}

/** The fields of a rollout file in the order people write them (the API's JSON comes in PostgreSQL's jsonb order). */
const FILE_ORDER = ['app', 'namespace', 'workload', 'image', 'version', 'steps', 'analysis', 'waves', 'rollback', 'progressDeadline'];

function fileOrder(spec: Record<string, unknown>): Record<string, unknown> {
  const rank = (key: string) => (FILE_ORDER.includes(key) ? FILE_ORDER.indexOf(key) : FILE_ORDER.length);
  return Object.fromEntries(Object.entries(spec).sort(([a], [b]) => rank(a) - rank(b)));
}

/** --timeout as milliseconds; it needs --wait (or the wait sub-command). */
function timeoutOption(args: ParsedArgs): number | undefined {
  const raw = stringOption(args, 'timeout');
  if (raw === undefined) return undefined;
  if (args.positionals[0] !== 'wait' && args.values.wait !== true) throw new UsageError('--timeout needs --wait');
  let ms: number;
  try {
    ms = parseDuration(raw);
  } catch {
    throw new UsageError(`--timeout must be a duration such as 30s, 10m or 1h, got "${raw}"`);
  }
  if (ms <= 0) throw new UsageError(`--timeout must be more than 0, got "${raw}"`);
  return ms;
}

function onePositional(args: ParsedArgs, what: string): string {
  const [, value, ...rest] = args.positionals;
  if (value === undefined) throw new UsageError(`${args.positionals[0]} needs the ${what}`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  return value;
}

/** The rollout file as a request body: YAML unless it is named .json (the API takes both). */
async function fileBody(args: ParsedArgs): Promise<RequestBody> {
  const path = stringOption(args, 'file');
  if (!path) throw new UsageError('-f FILE is required: the rollout file, YAML or JSON');
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${toError(err).message}`);
  }
  return { text, contentType: extname(path).toLowerCase() === '.json' ? 'application/json' : 'application/yaml' };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function print(mode: OutputMode, output: Output, value: unknown, text: () => string[]): void {
  if (mode === 'json') output.out(`${JSON.stringify(value)}\n`);
  else output.out(`${text().join('\n')}\n`);
}

async function run(args: ParsedArgs, output: Output): Promise<number> {
  const sub = args.positionals[0];
  if (sub === undefined) {
    throw new UsageError('which sub-command? create, wait, plan, diff, get, list, history, undo, promote, approve, pause, resume, abort or events');
  }
  const allowed = ALLOWED[sub];
  if (!allowed) throw new UsageError(`unknown sub-command "${sub}"`);
  for (const [name, value] of Object.entries(args.values)) {
    if (value !== undefined && name !== 'help' && !allowed.includes(name)) throw new UsageError(`--${name} does not apply to \`rollout ${sub}\``);
  }
  const mode = outputMode(args);
  const env = loadClientEnv();
  const client = new ApiClient({ baseUrl: env.OLEADA_URL, token: env.OLEADA_TOKEN });

  switch (sub) {
    case 'create': {
      if (args.positionals.length > 1) throw new UsageError(`unexpected arguments: ${args.positionals.slice(1).join(' ')}`);
      const key = stringOption(args, 'idempotency-key');
      const supersede = args.values.supersede === true;
      const response = await client.request<RolloutStatus>('POST', `/api/v1/rollouts${supersede ? '?supersede=true' : ''}`, {
        body: await fileBody(args),
        headers: key ? { 'idempotency-key': key } : {},
      });
      const status = response.body;
      if (args.values.wait !== true) {
        print(mode, output, status, () => [`created rollout ${status.id} of ${status.app} ${status.version ?? ''} (${status.phase})`]);
        return 0;
      }
      if (mode !== 'json') {
        const replayed = response.status === 200 ? ' (already created with this idempotency key)' : '';
        output.out(`rollout ${status.id} of ${status.app} ${status.version ?? ''}${replayed}; following it to the end\n`);
      }
      return waitForEnd(client, status.id, mode, output, timeoutOption(args));
    }
    case 'wait': {
      const id = onePositional(args, 'rollout id');
      return waitForEnd(client, id, mode, output, timeoutOption(args));
    }
    case 'history':
      return historyOf(client, onePositional(args, 'app'), mode, output, stringOption(args, 'limit'));
    case 'undo': {
      const app = onePositional(args, 'app');
      const timeout = timeoutOption(args);
      const rollout = await undoApp(client, app, args, mode, output);
      return args.values.wait === true ? waitForEnd(client, rollout.id, mode, output, timeout) : 0;
    }
    case 'diff':
      if (args.positionals.length > 1) throw new UsageError(`unexpected arguments: ${args.positionals.slice(1).join(' ')}`);
      return diffFile(client, await fileBody(args), mode, output);
    case 'plan': {
      const response = await client.request<PlanPreview>('POST', '/api/v1/rollouts:plan', { body: await fileBody(args) });
      print(mode, output, response.body, () => planText(response.body));
      return 0;
    }
    case 'get': {
      const id = onePositional(args, 'rollout id');
      const response = await client.request<RolloutStatus>('GET', `/api/v1/rollouts/${encodeURIComponent(id)}`);
      if (stringOption(args, 'output') === 'yaml') {
        output.out(stringifyYaml(fileOrder(response.body.spec)));
        return 0;
      }
      print(mode, output, response.body, () => statusText(response.body));
      return 0;
    }
    case 'list': {
      if (args.positionals.length > 1) throw new UsageError(`unexpected arguments: ${args.positionals.slice(1).join(' ')}`);
      const query = new URLSearchParams();
      for (const name of ['app', 'phase', 'limit', 'cursor']) {
        const value = stringOption(args, name);
        if (value !== undefined) query.set(name, value);
      }
      const suffix = query.size > 0 ? `?${query.toString()}` : '';
      const response = await client.request<RolloutPage>('GET', `/api/v1/rollouts${suffix}`);
      print(mode, output, response.body, () => listText(response.body));
      return 0;
    }
    case 'events': {
      const id = onePositional(args, 'rollout id');
      if (args.values.follow === true) {
        const final = await followToEnd(client, id, mode === 'tty' ? 'plain' : mode, output);
        return exitCodeFor(final.phase);
      }
      let after = 0;
      for (;;) {
        const page = (await client.request<EventPage>('GET', `/api/v1/rollouts/${encodeURIComponent(id)}/events?after=${after}&limit=1000`)).body;
        for (const event of page.items) output.out(mode === 'json' ? `${JSON.stringify(event)}\n` : `${plainEventLine(event)}\n`);
        after = page.nextAfter;
        if (!page.more) return 0;
      }
    }
    default: {
      const id = onePositional(args, 'rollout id');
      const body: Record<string, unknown> = {};
      for (const name of ['cluster', 'wave', 'reason']) {
        const value = stringOption(args, name);
        if (value !== undefined) body[name] = value;
      }
      if (args.values.full === true) body.full = true;
      const revision = stringOption(args, 'if-revision');
      if (revision !== undefined) {
        if (!/^\d{1,15}$/.test(revision)) throw new UsageError(`--if-revision must be the revision \`rollout get\` showed (a number), got "${revision}"`);
        body.revision = Number(revision);
      }
      const response = await sendCommand<StoredCommand>(client, 'POST', `/api/v1/rollouts/${encodeURIComponent(id)}/${sub}`, { body: { json: body } });
      print(mode, output, response.body, () => [commandText(response.body)]);
      return 0;
    }
  }
}

export const rolloutCommand: Command = {
  name: 'rollout',
  summary: 'create, follow, promote and abort rollouts through the API',
  usage: USAGE,
  allowPositionals: true,
  options: {
    file: { type: 'string', short: 'f' },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
    'if-revision': { type: 'string' },
    'to-revision': { type: 'string' },
    'to-version': { type: 'string' },
    'idempotency-key': { type: 'string' },
    supersede: { type: 'boolean' },
    app: { type: 'string' },
    phase: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    cluster: { type: 'string' },
    wave: { type: 'string' },
    full: { type: 'boolean' },
    reason: { type: 'string' },
    follow: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  },
  async run(args) {
    try {
      return await run(args, stdio);
    } catch (err) {
      if (err instanceof ApiError) {
        process.stderr.write(`${errorText(err).join('\n')}\n`);
        return 2;
      }
      throw err;
    }
  },
};
