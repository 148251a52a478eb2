/**
 * Opaque list cursors: base64url of the last item's position (PostgreSQL's microsecond created_at and the id). Clients
 * pass them back untouched; anything that does not decode to a sane position is a 400, never a database error.
 */
import type { ListPosition } from '../store/rollout-reads.ts';
import { ApiError } from './problem.ts';

const TIMESTAMP = /^((?:19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.createdAt}|${position.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  const invalid = () =>
    new ApiError(400, 'invalid_cursor', 'the cursor is not one this API gave out; pass `next.cursor` from the previous page unchanged, or omit it for the first page');
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (createdAt === undefined || id === undefined || rest.length > 0) throw invalid();
  const match = TIMESTAMP.exec(createdAt);
  // A calendar-impossible time (February 30th) would pass the pattern; a round trip through Date catches it.
  if (!match || !UUID.test(id) || Number.isNaN(Date.parse(createdAt))) throw invalid();
  if (new Date(`${match[1]}Z`).toISOString() !== `${match[1]}Z`) throw invalid();
  return { createdAt, id };
}
