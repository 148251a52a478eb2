/** Apps x clusters: the version each cluster runs, and the rollout moving it, from the rollout records. */
import { Badge } from '../components/Badge.tsx';
import { CLUSTER_STATES } from '../format.ts';
import { usePoll } from '../poll.ts';
import { Link } from '../router.tsx';
import type { Fleet as FleetData } from '../types.ts';

export function Fleet() {
  const fleet = usePoll<FleetData>('/api/v1/fleet', 5000);
  const data = fleet.data;
  return (
    <main id="main">
      <h1>Fleet</h1>
      <p class="help">The version each cluster runs, as the newest rollout that reached it recorded, and the rollout moving it now.</p>
      {fleet.error && (
        <p role="alert" class="error">
          {fleet.error.message}
        </p>
      )}
      {!data ? (
        <p aria-busy="true">Loading the fleet…</p>
      ) : data.apps.length === 0 ? (
        <p>No rollout has reached a cluster yet.</p>
      ) : (
        <div class="scroll">
          <table class="fleet">
            <caption>
              {data.apps.length} apps on {data.clusters.length} clusters
            </caption>
            <thead>
              <tr>
                <th scope="col">App</th>
                {data.clusters.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.apps.map((row) => {
                const cells = new Map(row.cells.map((c) => [c.cluster, c]));
                return (
                  <tr key={row.app}>
                    <th scope="row">
                      <Link href={`/rollouts?app=${encodeURIComponent(row.app)}`}>{row.app}</Link>
                    </th>
                    {data.clusters.map((name) => {
                      const cell = cells.get(name);
                      if (!cell) return <td key={name} class="empty">—</td>;
                      return (
                        <td key={name}>
                          <span class="version">{cell.version ?? 'unknown'}</span>
                          {cell.moving && (
                            <span class="moving">
                              {' '}
                              <Link href={`/rollouts/${cell.moving.rolloutId}`}>
                                → {cell.moving.toVersion ?? '?'} at {cell.moving.actualWeight}%
                              </Link>{' '}
                              <Badge state={CLUSTER_STATES[cell.moving.clusterState]} />
                            </span>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
