/**
 * Reads of rollouts that the API needs beyond rollouts.ts: a light "head" row for authorization, conditional GETs and
 * event streams, and a listing restricted to the apps a token may see.
 */
import { ACTIVE_PHASES, type Phase } from '../model/state.ts';
import type { Pool, PoolClient } from './pool.ts';
import { COLUMNS } from './rollouts.ts';
import type { RolloutRecord } from '../model/rollout.ts';

type Db = Pool | PoolClient;

/** What a caller needs to decide about a rollout without reading its spec, plan or state. */
export interface RolloutHead {
  id: string;
  app: string;
  phase: Phase;
  version: number;
  /** The sequence number of the rollout's last event, as the state says (0 before the first). */
  eventSeq: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a rollout id at all; anything else would make PostgreSQL fail the uuid cast. */
export function isRolloutId(id: string): boolean {
  return UUID.test(id);
}

export async function getRolloutHead(db: Db, id: string): Promise<RolloutHead | undefined> {
  if (!isRolloutId(id)) return undefined;
  const { rows } = await db.query<{ id: string; app: string; phase: Phase; version: number; event_seq: number | null }>(
    `SELECT id, app, phase, version, (state->>'eventSeq')::int AS event_seq FROM rollouts WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  return row && { id: row.id, app: row.app, phase: row.phase, version: row.version, eventSeq: row.event_seq ?? 0 };
}

/**
 * The app and version alone, from the primary key: what a conditional GET needs. It leaves the state column alone,
 * which PostgreSQL may keep out of line (TOAST) once it grows.
 */
export async function getRolloutStamp(db: Db, id: string): Promise<{ app: string; version: number } | undefined> {
  if (!isRolloutId(id)) return undefined;
  const { rows } = await db.query<{ app: string; version: number }>('SELECT app, version FROM rollouts WHERE id = $1', [id]);
  return rows[0];
}

/** Turns a glob (`*` any run of characters, `?` one character) into a LIKE pattern with `\` as the escape. */
export function globToLike(glob: string): string {
  let like = '';
  for (const char of glob) {
    if (char === '*') like += '%';
    else if (char === '?') like += '_';
    else if (char === '%' || char === '_' || char === '\\') like += `\\${char}`;
    else like += char;
  }
  return like;
}

/**
 * A position in the newest-first order. `createdAt` is PostgreSQL's own microsecond timestamp as text: a JavaScript
 * Date keeps only milliseconds, and a cursor rounded to them would skip rollouts created in the same millisecond.
 */
export interface ListPosition {
  createdAt: string;
  id: string;
}

export interface MatchingQuery {
  app?: string;
  phase?: Phase;
  /** Only apps matching one of these globs; undefined means every app. */
  appGlobs?: string[];
  limit: number;
  /** The position of the last item of the previous page. */
  after?: ListPosition;
}

export interface RolloutPage {
  items: RolloutRecord[];
  /** Where the next page starts; absent on the last page. */
  next?: ListPosition;
}

interface PagedRow extends RolloutRecord {
  cursor_at: string;
}

/**
 * Newest first by keyset on (created_at, id), like listRollouts, and additionally limited to apps matching globs, so
 * a token limited to `checkout-*` lists only those rollouts without the API filtering pages after the fact.
 */
export async function listRolloutsMatching(db: Db, query: MatchingQuery): Promise<RolloutPage> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.app !== undefined) {
    params.push(query.app);
    conditions.push(`app = $${params.length}`);
  }
  if (query.appGlobs !== undefined) {
    params.push(query.appGlobs.map(globToLike));
    conditions.push(`app LIKE ANY ($${params.length}::text[])`);
  }
  if (query.phase !== undefined) {
    params.push(query.phase);
    conditions.push(`phase = $${params.length}`);
  }
  if (query.after) {
    params.push(query.after.createdAt, query.after.id);
    conditions.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  // One more than asked tells whether a next page exists without a second query.
  params.push(query.limit + 1);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const { rows } = await db.query<PagedRow>(
    `SELECT ${COLUMNS},
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM rollouts ${where} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ cursor_at: _cursor, ...record }) => record),
    ...(rows.length > query.limit && last ? { next: { createdAt: last.cursor_at, id: last.id } } : {}),
  };
}

/**
 * A fingerprint of every rollout's version at once: the number of rollouts and the sum of their versions. Rollouts are
 * never deleted and every write raises a version, so each write moves it and it never comes back to an earlier value.
 */
export async function rolloutsFingerprint(db: Db): Promise<string> {
  const { rows } = await db.query<{ count: string; total: string }>('SELECT count(*)::text AS count, coalesce(sum(version), 0)::text AS total FROM rollouts');
  const row = rows[0]!;
  return `${row.count}.${row.total}`;
}

/** An active rollout in a short listing (chat's `/oleada list`). */
export interface ActiveRolloutLine {
  id: string;
  app: string;
  phase: Phase;
  version: number;
  /** The version being rolled out (the rollout file's `version`). */
  appVersion: string;
  reason: string;
}

/** The active rollouts, oldest first, limited to apps matching `appGlobs` when given; at most `limit`. */
export async function listActiveLines(db: Db, query: { appGlobs?: string[]; limit: number }): Promise<ActiveRolloutLine[]> {
  const params: unknown[] = [ACTIVE_PHASES, query.limit];
  let filter = '';
  if (query.appGlobs !== undefined) {
    params.push(query.appGlobs.map(globToLike));
    filter = `AND app LIKE ANY ($3::text[])`;
  }
  const { rows } = await db.query<ActiveRolloutLine>(
    `SELECT id, app, phase, version, plan->>'version' AS "appVersion", coalesce(state->>'reason', '') AS reason
       FROM rollouts WHERE phase = ANY($1::text[]) ${filter} ORDER BY created_at LIMIT $2`,
    params,
  );
  return rows;
}
