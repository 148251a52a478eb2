/** The clusters file's clusters: health of their Kubernetes API and Prometheus, labels, and the rollouts on each. */
import { usePoll } from '../poll.ts';
import { Link } from '../router.tsx';
import type { ClusterView, Fleet } from '../types.ts';

function Health(props: { ok: boolean; what: string; detail: string | null }) {
  return (
    <span class={`badge tone-${props.ok ? 'good' : 'danger'}`}>
      <span aria-hidden="true">{props.ok ? '✓' : '✕'}</span> {props.what} {props.ok ? 'reachable' : 'unreachable'}
      {!props.ok && props.detail ? `: ${props.detail}` : ''}
    </span>
  );
}

export function Clusters() {
  // Health is checked live by the API on each request; every 15 s is often enough for a person.
  const clusters = usePoll<{ items: ClusterView[] }>('/api/v1/clusters', 15_000);
  const fleet = usePoll<Fleet>('/api/v1/fleet', 5000);
  const active = new Map<string, { app: string; id: string; version: string | null }[]>();
  for (const row of fleet.data?.apps ?? []) {
    for (const cell of row.cells) {
      if (!cell.moving) continue;
      const list = active.get(cell.cluster) ?? [];
      list.push({ app: row.app, id: cell.moving.rolloutId, version: cell.moving.toVersion });
      active.set(cell.cluster, list);
    }
  }
  return (
    <main id="main">
      <h1>Clusters</h1>
      {clusters.error && (
        <p role="alert" class="error">
          {clusters.error.message}
        </p>
      )}
      {!clusters.data ? (
        <p aria-busy="true">Checking the clusters…</p>
      ) : (
        <div class="clusters">
          {clusters.data.items.map((c) => (
            <article class="cluster" key={c.name} aria-labelledby={`c-${c.name}`}>
              <header>
                <h2 id={`c-${c.name}`}>{c.name}</h2>
              </header>
              <p>
                <Health ok={c.health.apiReachable} what="Kubernetes API" detail={c.health.error} />{' '}
                {c.health.serverVersion && <span class="meta">{c.health.serverVersion}{c.health.latencyMs !== null ? `, ${c.health.latencyMs} ms` : ''}</span>}
              </p>
              <p>
                <Health ok={c.health.prometheusReachable} what="Prometheus" detail={c.health.prometheusError} />
              </p>
              <p class="labels">
                {Object.entries(c.labels).map(([k, v]) => (
                  <span class="label" key={k}>
                    {k}={v}
                  </span>
                ))}
              </p>
              <p>
                {(active.get(c.name) ?? []).length === 0
                  ? 'No active rollout.'
                  : (active.get(c.name) ?? []).map((r) => (
                      <span key={r.id} class="active-rollout">
                        <Link href={`/rollouts/${r.id}`}>
                          {r.app} → {r.version ?? '?'}
                        </Link>{' '}
                      </span>
                    ))}
              </p>
            </article>
          ))}
        </div>
      )}
    </main>
  );
}
