import { createHash } from 'node:crypto';

/**
 * ETags of rollout status. The view is a pure function of the stored row, and every write of the row raises its
 * version, so the version alone identifies the representation. The prefix names the view's shape: when the view
 * changes in a release, old tags stop matching instead of validating a different body.
 */
const VIEW_REVISION = 'v2';

export function rolloutEtag(version: number): string {
  return `"${VIEW_REVISION}.${version}"`;
}

/**
 * The ETag of a page of rollouts: which rollouts it holds, at which versions, and where the next page starts. Any
 * change to a listed rollout, a new rollout on the page, or a shifted page boundary changes it.
 */
export function rolloutPageEtag(items: readonly { id: string; version: number }[], nextCursor: string | null): string {
  const hash = createHash('sha256');
  for (const item of items) hash.update(`${item.id}:${item.version};`);
  hash.update(nextCursor ?? '');
  return `"${VIEW_REVISION}.page.${hash.digest('base64url').slice(0, 22)}"`;
}

/**
 * The ETag of a list page named by where the rollouts table stands (list-generation.ts) instead of by its rows: the
 * same query, by a token with the same app globs, at the same word.
 */
export function listWordEtag(word: string, query: readonly (string | number | undefined)[]): string {
  const hash = createHash('sha256').update(word);
  for (const part of query) hash.update(`\u0000${part ?? ''}`);
  return `"${VIEW_REVISION}.list.${hash.digest('base64url').slice(0, 22)}"`;
}

const OUR_TAG = new RegExp(`^"${VIEW_REVISION}\\.(\\d{1,15})"$`);

/** The rollout version a strong ETag of ours names, or undefined for any other tag (weak, foreign, older view). */
export function versionOfEtag(etag: string): number | undefined {
  const match = OUR_TAG.exec(etag);
  return match ? Number(match[1]) : undefined;
}

/**
 * Whether an If-None-Match header matches `etag` (RFC 9110 §13.1.2: weak comparison, a list of tags, or `*`, which
 * matches any current representation).
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  for (const candidate of trimmed.split(',')) {
    if (candidate.trim().replace(/^W\//, '') === opaque) return true;
  }
  return false;
}
