/**
 * Slack's request signature (v0): HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the app's signing secret, sent as
 * `X-Slack-Signature: v0=<hex>` beside `X-Slack-Request-Timestamp`. The raw body must be the bytes Slack sent: a form
 * body decoded and encoded again may differ in a single `+` or `%20`, and the signature would no longer match.
 * Pure: no I/O, the clock is passed in.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's own advice: refuse requests older (or newer) than five minutes, so a captured request cannot be replayed later. */
export const MAX_SKEW_SECONDS = 5 * 60;

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^v0=[0-9a-f]{64}$/;

export interface SignedHeaders {
  timestamp: string | string[] | undefined;
  signature: string | string[] | undefined;
}

/** The signature Slack would send for this body at this timestamp. */
export function slackSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Whether the request was signed with `secret` within five minutes of `nowMs`. Every way to fail gives the same
 * `false`: the caller answers one opaque 401 whatever was wrong.
 */
export function verifySlackRequest(secret: string, headers: SignedHeaders, rawBody: Buffer, nowMs: number): boolean {
  const { timestamp, signature } = headers;
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (!TIMESTAMP.test(timestamp) || !SIGNATURE.test(signature)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_SKEW_SECONDS) return false;
  const expected = Buffer.from(slackSignature(secret, timestamp, rawBody), 'latin1');
  // Both are `v0=` and 64 hex digits (checked above), so the lengths match and the comparison takes constant time.
  return timingSafeEqual(expected, Buffer.from(signature, 'latin1'));
}
