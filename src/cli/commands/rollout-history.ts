/**
 * `oleada rollout history | undo | diff`: an app's past as data. history lists it, undo starts an earlier version
 * again, and diff says what a file would change against the last rollout (exit 0 nothing, 1 something, like kubectl
 * diff).
 */
import { UsageError, stringOption, type ParsedArgs } from '../command.ts';
import { specDiff, type DiffSide } from '../client/diff.ts';
import type { ApiClient, RequestBody } from '../client/http.ts';
import { sendCommand } from '../client/retry.ts';
import { shortTime } from '../client/render.ts';
import type { PlanPreview, RolloutPage, RolloutStatus } from '../client/types.ts';
import type { History, UndoResult } from '../../model/history-wire.ts';
import type { RolloutSpec } from '../../spec/schema.ts';
import { parseRolloutSpec } from '../../spec/parse.ts';
import type { Output, OutputMode } from './rollout-wait.ts';

export function historyText(history: History): string[] {
  if (history.items.length === 0) return [`${history.app} has no rollouts yet`];
  const header = `${'REVISION'.padEnd(9)}${'VERSION'.padEnd(14)}${'OUTCOME'.padEnd(18)}${'STARTED BY'.padEnd(20)}STARTED            ID`;
  return [
    header,
    ...history.items.map(
      (h) => `${String(h.revision).padEnd(9)}${(h.version ?? '-').padEnd(14)}${h.outcome.padEnd(18)}${h.createdBy.padEnd(20)}${shortTime(h.createdAt).padEnd(19)}${h.id}`,
    ),
  ];
}

export async function historyOf(client: ApiClient, app: string, mode: OutputMode, output: Output, limit?: string): Promise<number> {
  const query = limit !== undefined ? `?limit=${encodeURIComponent(limit)}` : '';
  const history = (await client.request<History>('GET', `/api/v1/apps/${encodeURIComponent(app)}/history${query}`)).body;
  output.out(mode === 'json' ? `${JSON.stringify(history)}\n` : `${historyText(history).join('\n')}\n`);
  return 0;
}

/** Starts the undo and returns the new rollout; the caller may follow it. */
export async function undoApp(client: ApiClient, app: string, args: ParsedArgs, mode: OutputMode, output: Output): Promise<RolloutStatus> {
  const toRevision = stringOption(args, 'to-revision');
  const toVersion = stringOption(args, 'to-version');
  if (toRevision !== undefined && toVersion !== undefined) throw new UsageError('give --to-revision or --to-version, not both');
  const body: Record<string, unknown> = {};
  if (toRevision !== undefined) {
    if (!/^[1-9]\d{0,9}$/.test(toRevision)) throw new UsageError(`--to-revision must be a revision number from \`oleada rollout history ${app}\`, got "${toRevision}"`);
    body.toRevision = Number(toRevision);
  }
  if (toVersion !== undefined) body.toVersion = toVersion;
  const supersede = args.values.supersede === true;
  const key = stringOption(args, 'idempotency-key');
  const response = await sendCommand<UndoResult>(
    client,
    'POST',
    `/api/v1/apps/${encodeURIComponent(app)}/rollouts:undo${supersede ? '?supersede=true' : ''}`,
    { body: { json: body } },
    key !== undefined ? { idempotencyKey: key } : {},
  );
  const { from, rollout } = response.body;
  if (mode === 'json') output.out(`${JSON.stringify(response.body)}\n`);
  else {
    output.out(
      `undo: rollout ${rollout.id} puts ${app} back to ${from.version ?? from.image ?? '?'} (revision ${from.revision}, started by ${from.createdBy} ${shortTime(from.createdAt)})\n`,
    );
  }
  return rollout;
}

/** The app's last rollout as a diff side, or null when it has none. */
async function lastRollout(client: ApiClient, app: string): Promise<DiffSide | null> {
  const page = (await client.request<RolloutPage>('GET', `/api/v1/apps/${encodeURIComponent(app)}/rollouts?limit=1`)).body;
  const last = page.items[0];
  if (!last) return null;
  return { spec: last.spec as unknown as RolloutSpec, clusters: Object.fromEntries(last.waves.map((w) => [w.name, w.clusters])) };
}

/** 0 when the file changes nothing against the app's last rollout, 1 when it changes something. */
export async function diffFile(client: ApiClient, body: RequestBody, mode: OutputMode, output: Output): Promise<number> {
  const preview = (await client.request<PlanPreview>('POST', '/api/v1/rollouts:plan', { body })).body;
  // The plan route has checked the file; parsing it here again gives the normalised spec with its defaults.
  const input = 'json' in body ? body.json : body.text;
  const parsed = parseRolloutSpec(input, 'json' in body ? 'json' : body.contentType === 'application/json' ? 'json' : 'yaml');
  if (!parsed.ok) throw new UsageError(`the file is invalid: ${parsed.errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`);
  const after: DiffSide = { spec: parsed.spec, clusters: Object.fromEntries(preview.plan.waves.map((w) => [w.name, w.clusters])) };
  const before = await lastRollout(client, parsed.spec.app);
  const lines = specDiff(before, after);
  if (mode === 'json') output.out(`${JSON.stringify({ app: parsed.spec.app, changed: lines.length > 0, changes: lines })}\n`);
  else output.out(lines.length === 0 ? `no changes against the last rollout of ${parsed.spec.app}\n` : `${lines.join('\n')}\n`);
  return lines.length === 0 ? 0 : 1;
}
