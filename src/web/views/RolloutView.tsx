/** One rollout: waves with their clusters, the actions, the rollout file, and the live event timeline. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { Badge } from '../components/Badge.tsx';
import type { Threshold } from '../components/MetricChart.tsx';
import { isTerminal } from '../../model/state.ts';
import { countdown, PHASES, WAVE_STATES, when } from '../format.ts';
import { useLiveRollout, type LiveMode } from '../live.ts';
import { useNow } from '../poll.ts';
import type { RolloutFile, Sample, WhoAmI } from '../types.ts';
import { useCommands } from './Actions.tsx';
import { ClusterCard } from './ClusterCard.tsx';
import { NotFound } from './NotFound.tsx';

/** Charts start open while few clusters have samples; with many, a person opens the ones they want. */
const OPEN_CHARTS_UP_TO = 6;

export function RolloutView(props: { id: string; me: WhoAmI }) {
  const { id, me } = props;
  const [samples, setSamples] = useState<Sample[]>([]);
  const [file, setFile] = useState<RolloutFile | null>(null);
  const path = `/api/v1/rollouts/${encodeURIComponent(id)}`;
  const live = useLiveRollout(id);
  const rollout = live.rollout;
  const events = live.events;
  const now = useNow();
  const commands = useCommands(rollout, live.etag, live.refresh);

  useEffect(() => {
    setSamples([]);
    counted.current = null;
    setFile(null);
    api.get<RolloutFile>(`${path}/file`).then((a) => setFile(a.body), () => {});
  }, [path]);

  // The samples behind the charts: read once, then taken from the status itself. Each status carries every metric's
  // last measurement, so one new measurement is one new sample and costs no request; only a gap (more than one new
  // measurement between two statuses, as after a reconnect) reads the whole list again.
  const counted = useRef<Map<string, number> | null>(null);
  useEffect(() => {
    if (!rollout) return;
    const counts = new Map<string, number>();
    const fresh: Sample[] = [];
    let reread = counted.current === null;
    for (const cluster of rollout.clusters) {
      for (const metric of cluster.metrics) {
        const key = `${cluster.name}\u0000${metric.name}`;
        counts.set(key, metric.measurements);
        const before = counted.current?.get(key) ?? 0;
        if (metric.measurements === before) continue;
        if (metric.measurements === before + 1 && metric.lastAt && metric.lastVerdict) {
          fresh.push({ wave: cluster.wave, cluster: cluster.name, metric: metric.name, query: '', value: metric.lastValue, verdict: metric.lastVerdict, error: metric.lastError, measuredAt: metric.lastAt });
        } else reread = true;
      }
    }
    counted.current = counts;
    if (reread) {
      api.get<{ items: Sample[] }>(`${path}/analysis?limit=10000&judgements=0`).then(
        (a) =>
          setSamples((shown) => {
            // Keep what statuses added while the list was on its way.
            const newest = a.body.items.reduce((max, x) => (x.measuredAt > max ? x.measuredAt : max), '');
            return [...a.body.items, ...shown.filter((x) => x.query === '' && x.measuredAt > newest)];
          }),
        () => {},
      );
    } else if (fresh.length > 0) setSamples((shown) => [...shown, ...fresh]);
  }, [rollout, path]);

  const thresholds = useMemo(() => new Map<string, Threshold>((file?.metrics ?? []).map((m) => [m.name, m])), [file]);
  const samplesByCluster = useMemo(() => {
    const map = new Map<string, Sample[]>();
    for (const s of samples) {
      const list = map.get(s.cluster) ?? [];
      list.push(s);
      map.set(s.cluster, list);
    }
    return map;
  }, [samples]);

  if (live.error?.status === 404) return <NotFound what={`There is no rollout ${id}.`} />;
  if (live.error && !rollout) {
    return (
      <main id="main">
        <p role="alert" class="error">
          {live.error instanceof ApiError ? live.error.message : 'The rollout could not be read.'}
        </p>
      </main>
    );
  }
  if (!rollout) return <main id="main" aria-busy="true">Loading rollout…</main>;

  const active = !isTerminal(rollout.phase);
  const acts = me.may.command && active ? commands : null;
  const chartsOpen = samplesByCluster.size <= OPEN_CHARTS_UP_TO;
  const byName = new Map(rollout.clusters.map((c) => [c.name, c]));

  return (
    <main id="main" class="rollout">
      <header class="rollout-head">
        <h1>
          {rollout.app} {rollout.version ?? ''}
        </h1>
        <Badge state={PHASES[rollout.phase]} />
        <p class="reason">{rollout.reason}</p>
        <p class="meta">
          Revision {rollout.revision} · created {when(rollout.createdAt)} by {rollout.createdBy}
          {rollout.image ? ` · ${rollout.image}` : ''}
          {rollout.namespace ? ` · namespace ${rollout.namespace}` : ''}
        </p>
        <LiveNote mode={live.mode} />
        {rollout.paused && (
          <p class="notice">
            Paused by {rollout.paused.actor}: {rollout.paused.reason}
          </p>
        )}
        {rollout.rollback && (
          <p class="notice danger">
            Rolled back: {rollout.rollback.cause}
            {rollout.rollback.cluster ? ` (cluster ${rollout.rollback.cluster})` : ''}, by {rollout.rollback.actor}
          </p>
        )}
      </header>

      {acts && (
        <section class="actions" aria-label="Actions on this rollout">
          {rollout.phase === 'paused' ? (
            <button type="button" onClick={acts.resume}>
              Resume
            </button>
          ) : (
            <button type="button" onClick={acts.pause}>
              Pause
            </button>
          )}
          <button type="button" class="danger" onClick={acts.abort}>
            Abort
          </button>
        </section>
      )}
      {commands.outcome && (
        <p role={commands.outcome.ok ? 'status' : 'alert'} class={commands.outcome.ok ? 'ok' : 'error'}>
          {commands.outcome.text}
        </p>
      )}
      {commands.dialog}

      {rollout.waves.map((wave, index) => (
        <section class="wave" key={wave.name} aria-labelledby={`wave-${index}`}>
          <header>
            <h2 id={`wave-${index}`}>
              Wave {index + 1}: {wave.name}
            </h2>
            <Badge state={WAVE_STATES[wave.status]} />
            {wave.status === 'awaiting_approval' && <span>waiting since {when(wave.startedAt)}</span>}
            {wave.approvedBy && <span>approved by {wave.approvedBy}</span>}
            {wave.status === 'baking' && wave.bakeUntil && <span>bake ends {countdown(wave.bakeUntil, now) === 'now' ? 'now' : `in ${countdown(wave.bakeUntil, now)}`}</span>}
            {acts && wave.status === 'awaiting_approval' && (
              <button type="button" class="primary" onClick={() => acts.approve(wave.name)}>
                Approve wave {wave.name}
              </button>
            )}
          </header>
          <div class="clusters">
            {wave.clusters.map((name) => {
              const cluster = byName.get(name);
              return (
                cluster && (
                  <ClusterCard
                    key={name}
                    cluster={cluster}
                    now={now}
                    samples={samplesByCluster.get(name) ?? []}
                    thresholds={thresholds}
                    chartsOpen={chartsOpen || cluster.state === 'failed'}
                    commands={acts}
                  />
                )
              );
            })}
          </div>
        </section>
      ))}

      <section aria-labelledby="timeline">
        <h2 id="timeline">Events</h2>
        <ol class="timeline" aria-live="polite" aria-relevant="additions">
          {events.map((e) => (
            <li key={e.seq}>
              <time dateTime={e.time}>{when(e.time)}</time> <span class="event-type">{e.type}</span>
              {e.cluster ? <span class="where"> {e.cluster}</span> : e.wave ? <span class="where"> {e.wave}</span> : null}{' '}
              <span>{e.message}</span> <span class="actor">— {e.actor}</span>
            </li>
          ))}
        </ol>
      </section>

      <details class="file">
        <summary>Rollout file as submitted</summary>
        <pre>{file ? JSON.stringify(file.spec, null, 2) : 'Loading…'}</pre>
      </details>
    </main>
  );
}

/** How the page stays current, in words: live on the stream, or polling while the stream is unavailable. */
function LiveNote(props: { mode: LiveMode | undefined }) {
  const text =
    props.mode === 'stream'
      ? '● Live: changes appear as they happen'
      : props.mode === 'polling'
        ? '↻ Refreshing every 2 s: the live stream is unavailable'
        : props.mode === 'ended'
          ? '■ Final: this rollout has ended'
          : '';
  return (
    <p class="live-note" aria-label="Updates">
      {text}
    </p>
  );
}
