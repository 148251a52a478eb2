/**
 * Everything the CLI prints, as pure functions from API answers to lines. Colour and cursor movement are decided by
 * the caller (a TTY or not), never here, except in the progress frame, which is only drawn on a TTY.
 */
import { assertNever } from '../../errors.ts';
import { ENGINE_ACTOR } from '../../model/state.ts';
import type { ApiError } from './http.ts';
import { describeHeaderRoute } from '../../spec/traffic.ts';
import type { ClusterStatus, MetricStatus, PlanPreview, RolloutEvent, RolloutPage, RolloutStatus, StoredCommand } from './types.ts';

/** `2026-01-02T03:04:05Z`: seconds are enough in a log, and UTC reads the same on every CI runner. */
export function shortTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}

function scope(event: { wave: string | null; cluster: string | null }): string {
  if (event.wave && event.cluster) return `${event.wave}/${event.cluster}`;
  return event.cluster ?? event.wave ?? '-';
}


/** One line per event for CI logs: time, wave/cluster, message, and who did it when it was a person. */
export function plainEventLine(event: RolloutEvent): string {
  // Only people are worth naming, and only when the message does not already say who it was.
  const by = event.actor && event.actor !== ENGINE_ACTOR && !event.message.includes(event.actor) ? ` (by ${event.actor})` : '';
  return `${shortTime(event.time)}  ${scope(event).padEnd(22)}  ${event.message}${by}`;
}

const VERDICT_MARK: Record<string, string> = { successful: 'ok', failed: 'FAILED', inconclusive: 'no data', error: 'error' };

export function metricSummary(metric: MetricStatus): string {
  if (!metric.lastVerdict) return `${metric.name} -`;
  const value = metric.lastValue === null ? '' : ` ${Number(metric.lastValue.toPrecision(3))}`;
  return `${metric.name}${value} ${VERDICT_MARK[metric.lastVerdict] ?? metric.lastVerdict}`;
}

function clusterProgress(cluster: ClusterStatus): string {
  switch (cluster.state) {
    case 'canary': {
      const step = cluster.stepCount ? `step ${cluster.step + 1}/${cluster.stepCount}` : `step ${cluster.step + 1}`;
      const weight = cluster.actualWeight === cluster.targetWeight ? `${cluster.actualWeight}%` : `${cluster.actualWeight}% (to ${cluster.targetWeight}%)`;
      const waiting = cluster.awaitingPromote ? ', waits for promote' : cluster.pauseUntil ? `, pause until ${shortTime(cluster.pauseUntil).slice(11)}` : '';
      return `canary ${step}, ${weight}${waiting}, pods ${cluster.canaryReplicas} new / ${cluster.stableReplicas} stable`;
    }
    case 'promoted':
      return 'promoted, 100%';
    case 'rolled_back':
      return 'rolled back, 0%';
    case 'pending':
    case 'promoting':
    case 'rolling_back':
    case 'failed':
      return cluster.state.replace('_', ' ');
    default:
      return assertNever(cluster.state, 'cluster state');
  }
}

/** The live view on a TTY: a header, then each wave with its clusters, their step, weight and verdicts. */
export function progressFrame(status: RolloutStatus, lastEvent?: RolloutEvent, width = 100): string[] {
  const lines: string[] = [];
  const wave = status.currentWave ? `, wave ${status.currentWave.index + 1}/${status.waves.length} ${status.currentWave.name}` : '';
  lines.push(`${status.app} ${status.version ?? ''} - ${status.phase.replace('_', ' ')}${wave}`);
  for (const w of status.waves) {
    lines.push(`  ${w.name.padEnd(14)} ${w.status.replace('_', ' ')}${w.approvedBy ? ` (approved by ${w.approvedBy})` : ''}`);
    for (const name of w.clusters) {
      const cluster = status.clusters.find((c) => c.name === name);
      if (!cluster) continue;
      const verdicts = cluster.metrics.map(metricSummary).join(', ');
      lines.push(`    ${cluster.name.padEnd(16)} ${clusterProgress(cluster)}${verdicts ? `  [${verdicts}]` : ''}`);
    }
  }
  if (status.paused) lines.push(`  paused by ${status.paused.actor}: ${status.paused.reason}`);
  if (lastEvent) lines.push(`  ${shortTime(lastEvent.time).slice(11)} ${lastEvent.message}`);
  return lines.map((line) => (line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line));
}

/** ANSI that replaces the previous frame (of `previousLines` lines) with `lines`, without scrolling the screen. */
export function redraw(previousLines: number, lines: string[]): string {
  // CSI n F: to the start of the line n lines up; CSI 0 J: clear to the end of the screen.
  const up = previousLines > 0 ? `\x1b[${previousLines}F\x1b[0J` : '';
  return `${up}${lines.join('\n')}\n`;
}

/** `oleada rollout get` in text. */
export function statusText(status: RolloutStatus): string[] {
  const lines = [
    `rollout   ${status.id}`,
    `app       ${status.app}${status.namespace ? ` (namespace ${status.namespace})` : ''}`,
    `image     ${status.image ?? '-'}  version ${status.version ?? '-'}`,
    `phase     ${status.phase}: ${status.reason}`,
    `revision  ${status.revision} (--if-revision ${status.revision} acts only while the rollout is still here)`,
    `created   ${shortTime(status.createdAt)} by ${status.createdBy}${status.finishedAt ? `, finished ${shortTime(status.finishedAt)}` : ''}`,
    '',
    ...progressFrame(status, undefined, 1000).slice(1),
  ];
  return lines;
}

/** `oleada rollout list` in text: one line per rollout. */
export function listText(page: RolloutPage): string[] {
  if (page.items.length === 0) return ['no rollouts'];
  const lines = page.items.map(
    (r) => `${r.id}  ${r.app.padEnd(20)} ${(r.version ?? '-').padEnd(12)} ${r.phase.padEnd(17)} ${shortTime(r.createdAt)}  ${r.createdBy}`,
  );
  if (page.next) lines.push(`more: --cursor ${page.next.cursor}`);
  return lines;
}

/** `oleada rollout plan` in text. */
export function planText(preview: PlanPreview): string[] {
  const lines = [`${preview.plan.app} ${preview.plan.version}: at least ${formatDurationMs(preview.shortestDurationMs)}`];
  preview.plan.waves.forEach((wave, i) => {
    const extras = [wave.approval ? 'approval first' : '', wave.maxParallel < wave.clusters.length ? `${wave.maxParallel} at a time` : '', wave.bakeMs ? `bake ${formatDurationMs(wave.bakeMs)}` : '']
      .filter(Boolean)
      .join(', ');
    // Plans made before traffic providers existed have none to show: all their clusters use replicas.
    const providers = preview.plan.traffic?.providers;
    const clusters = wave.clusters.map((c) => (providers ? `${c} [${providers[c] ?? 'replicas'}]` : c));
    lines.push(`wave ${i + 1} ${wave.name}: ${clusters.join(', ')}${extras ? ` (${extras})` : ''}`);
    const steps = wave.steps.map((s) =>
      s.kind === 'setWeight'
        ? `${s.weight}%`
        : s.kind === 'setHeaderRoute'
          ? `header route ${describeHeaderRoute(s.match)}`
          : s.durationMs !== undefined
            ? `pause ${formatDurationMs(s.durationMs)}`
            : 'pause until promoted',
    );
    lines.push(`  steps: ${steps.length > 0 ? steps.join(' -> ') : 'promote at once'}`);
  });
  const first = preview.queries[0];
  if (first) for (const metric of first.metrics) lines.push(`query ${metric.name} (${first.cluster}): ${metric.query.replace(/\s+/g, ' ').trim()}`);
  return lines;
}

export function commandText(command: StoredCommand): string {
  const target = [command.args.wave && `wave ${command.args.wave}`, command.args.cluster && `cluster ${command.args.cluster}`].filter(Boolean).join(', ');
  return `${command.type} accepted for ${command.rolloutId}${target ? ` (${target})` : ''}; the engine applies it on its next tick`;
}

/** The last line of `--wait` in text. */
export function outcomeLine(status: RolloutStatus): string {
  return `${status.app} ${status.version ?? ''}: ${status.phase}${status.reason ? ` - ${status.reason}` : ''}`;
}

/** An API error for stderr: the problem's detail, and each field error on its own line. */
export function errorText(error: ApiError): string[] {
  const lines = [`error: ${error.problem.detail}${error.status ? ` (${error.status} ${error.problem.code})` : ''}`];
  for (const issue of error.problem.errors ?? []) {
    const place = issue.line !== undefined ? ` (line ${issue.line}${issue.column !== undefined ? `, column ${issue.column}` : ''})` : '';
    lines.push(`  ${issue.path || '/'}${place}: ${issue.message}`);
  }
  return lines;
}
