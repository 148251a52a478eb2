/**
 * Preconditions of command routes (RFC 9110 §13.1.1): `If-Match` with the ETag a client last saw, or a `revision`
 * field in the body. Both name the rollout's version, which every write raises, so a command given on the strength of
 * an old view is refused with 412 instead of acting on a rollout that has moved on.
 */
import { revisionStale } from '../engine/preconditions.ts';
import type { RolloutHead } from '../store/rollout-reads.ts';
import { rolloutEtag, versionOfEtag } from './live/etag.ts';
import { ApiError } from './problem.ts';

/** What a request asks of the rollout's revision: nothing, that it exists (`*`), or one of these revisions. */
export type Precondition = { kind: 'none' } | { kind: 'any' } | { kind: 'revisions'; revisions: number[] };

const ENTITY_TAG = /^(W\/)?"[\x21\x23-\x7e]*"$/;

/**
 * Reads If-Match and `revision`. A weak or foreign entity tag never matches (If-Match compares strongly), so it
 * yields no revision rather than an error; a header that is not a list of entity tags is a 400.
 */
export function readPrecondition(ifMatch: string | undefined, revision: number | undefined): Precondition {
  let fromHeader: Precondition = { kind: 'none' };
  if (ifMatch !== undefined) {
    const trimmed = ifMatch.trim();
    if (trimmed === '*') fromHeader = { kind: 'any' };
    else {
      const revisions: number[] = [];
      for (const part of trimmed.split(',')) {
        const tag = part.trim();
        if (!ENTITY_TAG.test(tag)) {
          throw new ApiError(400, 'if_match_invalid', `If-Match must be "*" or entity tags such as ${rolloutEtag(7)} (the ETag of GET /api/v1/rollouts/{id}); got ${JSON.stringify(ifMatch.slice(0, 100))}`);
        }
        const version = versionOfEtag(tag);
        if (version !== undefined) revisions.push(version);
      }
      fromHeader = { kind: 'revisions', revisions };
    }
  }
  if (revision === undefined) return fromHeader;
  if (fromHeader.kind === 'revisions' && !fromHeader.revisions.includes(revision)) {
    throw new ApiError(400, 'precondition_conflict', `If-Match (${ifMatch}) and revision ${revision} name different revisions; send one of them`);
  }
  return { kind: 'revisions', revisions: [revision] };
}

/**
 * The revision the command must be stored against, or undefined when it may apply to any. Throws RevisionStale when
 * the rollout, as just read, is at none of the revisions asked for; the store checks again as it inserts, because a
 * tick may write in between.
 */
export function expectedRevision(precondition: Precondition, head: RolloutHead): number | undefined {
  if (precondition.kind !== 'revisions') return undefined;
  if (precondition.revisions.includes(head.version)) return head.version;
  throw revisionStale(head.id, { phase: head.phase, revision: head.version }, precondition.revisions[0] ?? null);
}
