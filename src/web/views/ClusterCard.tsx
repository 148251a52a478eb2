/** One cluster of a rollout: its state, step, weights, pods, each metric's last verdict, and its charts. */
import { Badge } from '../components/Badge.tsx';
import { MetricChart, type Threshold } from '../components/MetricChart.tsx';
import { CLUSTER_STATES, countdown, formatValue, VERDICTS } from '../format.ts';
import type { ClusterStatus, Sample } from '../types.ts';
import type { Commands } from './Actions.tsx';

export function ClusterCard(props: {
  cluster: ClusterStatus;
  now: number;
  samples: Sample[];
  thresholds: Map<string, Threshold>;
  chartsOpen: boolean;
  commands: Commands | null;
}) {
  const { cluster: c, now, commands } = props;
  const started = c.state !== 'pending';
  const byMetric = new Map<string, Sample[]>();
  for (const sample of props.samples) {
    const list = byMetric.get(sample.metric) ?? [];
    list.push(sample);
    byMetric.set(sample.metric, list);
  }
  const canPromote = commands && c.state === 'canary';
  return (
    <article class={`cluster state-${c.state}`} aria-labelledby={`cluster-${c.name}`}>
      <header>
        <h3 id={`cluster-${c.name}`}>{c.name}</h3>
        <Badge state={CLUSTER_STATES[c.state]} />
      </header>
      <dl class="facts">
        <dt>Step</dt>
        <dd>{c.stepCount ? `${Math.min(c.step + 1, c.stepCount)} of ${c.stepCount}` : '—'}</dd>
        <dt>Weight</dt>
        <dd>
          target {c.targetWeight}%, actual {c.actualWeight}%
          <meter min={0} max={100} value={c.actualWeight} aria-label={`actual weight on ${c.name}`} />
        </dd>
        <dt>Pods</dt>
        <dd>
          canary {c.canaryReplicas}, stable {c.stableReplicas}
        </dd>
        {c.pauseUntil && (
          <>
            <dt>Pause</dt>
            <dd>{countdown(c.pauseUntil, now) === 'now' ? 'ending now' : `ends in ${countdown(c.pauseUntil, now)}`}</dd>
          </>
        )}
        {c.awaitingPromote && (
          <>
            <dt>Waiting</dt>
            <dd>for a promote</dd>
          </>
        )}
      </dl>
      {c.reason && <p class="reason">{c.reason}</p>}
      {c.lastKubeError && <p class="error">Kubernetes: {c.lastKubeError}</p>}
      {c.metrics.length > 0 && (
        <ul class="metrics" aria-label={`metrics of ${c.name}`}>
          {c.metrics.map((m) => (
            <li key={m.name}>
              <span class="metric-name">{m.name}</span>{' '}
              {m.lastVerdict ? <Badge state={VERDICTS[m.lastVerdict]} /> : <span class="badge tone-quiet">not measured</span>}{' '}
              <span class="value">{formatValue(m.lastValue)}</span>
              {m.failures > 0 && <span class="count"> · {m.failures} failed</span>}
              {m.lastError && <span class="error"> · {m.lastError}</span>}
            </li>
          ))}
        </ul>
      )}
      {canPromote && (
        <div class="buttons">
          <button type="button" onClick={() => commands.promote(c.name, false)}>
            Promote {c.name}
          </button>
          <button type="button" onClick={() => commands.promote(c.name, true)}>
            Promote {c.name} fully
          </button>
        </div>
      )}
      {started && byMetric.size > 0 && (
        <details open={props.chartsOpen}>
          <summary>Charts for {c.name}</summary>
          {[...byMetric].map(([metric, samples]) => (
            <MetricChart key={metric} cluster={c.name} metric={metric} samples={samples} threshold={props.thresholds.get(metric) ?? {}} />
          ))}
        </details>
      )}
    </article>
  );
}
