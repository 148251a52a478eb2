import { describe, expect, it } from 'vitest';
import { outcomeOf, withJitter } from '../../../src/notifications/retry.ts';
import { retryAfterMs } from '../../../src/notifications/sender.ts';
import { urlAllowed } from '../../../src/model/url-allow-list.ts';

const SCHEDULE = [5_000, 300_000, 1_800_000];
const failure = { ok: false as const, statusCode: 500, retry: 'schedule' as const, error: 'the receiver answered 500' };

describe('delivery retries', () => {
  it('waits the scheduled time after each failed try, within 10% of jitter', () => {
    expect(outcomeOf(failure, 1, SCHEDULE, 0, () => 0).nextAttemptAt?.getTime()).toBe(4_500);
    expect(outcomeOf(failure, 1, SCHEDULE, 0, () => 1).nextAttemptAt?.getTime()).toBe(5_500);
    expect(outcomeOf(failure, 2, SCHEDULE, 1_000, () => 0.5).nextAttemptAt?.getTime()).toBe(301_000);
    for (let i = 0; i < 100; i++) {
      const wait = withJitter(1_000, Math.random);
      expect(wait).toBeGreaterThanOrEqual(900);
      expect(wait).toBeLessThanOrEqual(1_100);
    }
  });

  it('fails the delivery for good once the schedule has run out, saying how many tries were made', () => {
    const outcome = outcomeOf(failure, 4, SCHEDULE, 0);
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe('the receiver answered 500 (gave up after 4 tries)');
  });

  it('stops at once when the receiver is gone, and waits as long as Retry-After asks', () => {
    expect(outcomeOf({ ...failure, statusCode: 410, retry: 'never' }, 1, SCHEDULE, 0).status).toBe('failed');
    expect(outcomeOf({ ...failure, statusCode: 429, retryAfterMs: 60_000 }, 1, SCHEDULE, 0).nextAttemptAt?.getTime()).toBe(60_000);
    expect(outcomeOf({ ok: true, statusCode: 200 }, 3, SCHEDULE, 0).status).toBe('delivered');
  });

  it('reads Retry-After in seconds and as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3_000);
    expect(retryAfterMs(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe('the URL allow-list', () => {
  it('allows URLs under a prefix and nothing else, after normalising them', () => {
    const prefixes = ['https://hooks.internal/', 'http://ci.example.com/oleada/'];
    expect(urlAllowed('https://hooks.internal/smoke', prefixes)).toBe(true);
    expect(urlAllowed('HTTPS://Hooks.Internal:443/a/../smoke', prefixes)).toBe(true);
    expect(urlAllowed('http://ci.example.com/oleada/report', prefixes)).toBe(true);
    expect(urlAllowed('http://ci.example.com/other', prefixes)).toBe(false);
    expect(urlAllowed('https://hooks.internal.evil.com/x', prefixes)).toBe(false);
    expect(urlAllowed('https://user:pw@hooks.internal/x', prefixes)).toBe(false);
    expect(urlAllowed('http://169.254.169.254/latest', prefixes)).toBe(false);
    expect(urlAllowed('https://hooks.internal/x', [])).toBe(false);
  });
});
