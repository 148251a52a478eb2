/**
 * Every rollout, newest first, filterable by app and phase. The first load walks the pages (up to MAX); later polls
 * refresh the newest page, where rollouts move, and merge it in.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, Unreachable } from '../api.ts';
import { Badge } from '../components/Badge.tsx';
import { PHASES, when } from '../format.ts';
import { usePoll } from '../poll.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { Page, Phase, Rollout } from '../types.ts';

const PAGE = 200;
const MAX = 1000;

function listPath(app: string, phase: string, cursor?: string): string {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (app) params.set('app', app);
  if (phase) params.set('phase', phase);
  if (cursor) params.set('cursor', cursor);
  return `/api/v1/rollouts?${params.toString()}`;
}

function progress(rollout: Rollout): string {
  const done = rollout.clusters.filter((c) => c.state === 'promoted').length;
  return `${done} of ${rollout.clusters.length} clusters promoted`;
}

export function RolloutList() {
  const { query } = useLocation();
  const app = query.get('app') ?? '';
  const phase = query.get('phase') ?? '';
  const [older, setOlder] = useState<Rollout[]>([]);
  const [error, setError] = useState<string | null>(null);
  const first = usePoll<Page<Rollout>>(listPath(app, phase), 3000);

  // The pages after the first, once per filter: older rollouts change rarely, the first page is polled.
  const firstCursor = first.data?.next?.cursor;
  const hasFirst = first.data !== undefined;
  useEffect(() => {
    setOlder([]);
    if (!hasFirst || !firstCursor) return;
    let stopped = false;
    (async () => {
      let cursor: string | undefined = firstCursor;
      const collected: Rollout[] = [];
      while (cursor && collected.length + PAGE < MAX && !stopped) {
        const answer: { body: Page<Rollout> } = await api.get<Page<Rollout>>(listPath(app, phase, cursor));
        collected.push(...answer.body.items);
        cursor = answer.body.next?.cursor;
      }
      if (!stopped) setOlder(collected);
    })().catch((err: unknown) => {
      if (!(err instanceof Unreachable)) setError(err instanceof Error ? err.message : String(err));
    });
    return () => {
      stopped = true;
    };
  }, [app, phase, hasFirst, firstCursor]);

  const rows = useMemo(() => {
    const newest = first.data?.items ?? [];
    const seen = new Set(newest.map((r) => r.id));
    return [...newest, ...older.filter((r) => !seen.has(r.id))];
  }, [first.data, older]);

  const setFilter = (name: 'app' | 'phase', value: string) => {
    const params = new URLSearchParams(location.search);
    if (value) params.set(name, value);
    else params.delete(name);
    const search = params.toString();
    navigate(`/rollouts${search ? `?${search}` : ''}`, true);
  };
  const [appDraft, setAppDraft] = useState(app);
  const filterError = first.error instanceof ApiError ? first.error.message : error;

  return (
    <main id="main">
      <h1>Rollouts</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter('app', appDraft.trim());
        }}
      >
        <label class="field inline">
          App
          <input value={appDraft} placeholder="any app" onInput={(e) => setAppDraft((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Filter</button>
        <label class="field inline">
          Phase
          <select value={phase} onChange={(e) => setFilter('phase', (e.target as HTMLSelectElement).value)}>
            <option value="">any phase</option>
            {(Object.keys(PHASES) as Phase[]).map((p) => (
              <option value={p} key={p}>
                {PHASES[p].label}
              </option>
            ))}
          </select>
        </label>
      </form>
      {filterError && (
        <p role="alert" class="error">
          {filterError}
        </p>
      )}
      {first.data === undefined && !filterError ? (
        <p aria-busy="true">Loading rollouts…</p>
      ) : rows.length === 0 ? (
        <p>No rollouts{app || phase ? ' match these filters' : ' yet'}.</p>
      ) : (
        <div class="scroll">
          <table class="rollouts">
            <caption>
              {rows.length} rollout{rows.length === 1 ? '' : 's'}, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">Version</th>
                <th scope="col">Phase</th>
                <th scope="col">Wave</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link href={`/rollouts/${r.id}`}>{r.app}</Link>
                  </td>
                  <td>{r.version ?? '—'}</td>
                  <td>
                    <Badge state={PHASES[r.phase]} />
                  </td>
                  <td>{r.currentWave?.name ?? '—'}</td>
                  <td>{progress(r)}</td>
                  <td>{when(r.createdAt)}</td>
                  <td>{r.createdBy}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
