import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiterClosedError, TokenBucket } from '../../../src/clusters/rate-limit.ts';

describe('TokenBucket', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts `count` acquires at once and records the fake time at which each one is granted, in grant order. */
  function grantTimes(bucket: TokenBucket, count: number): { times: number[]; order: number[] } {
    const times: number[] = [];
    const order: number[] = [];
    for (let i = 0; i < count; i++) {
      void bucket.acquire().then(() => {
        times.push(Date.now());
        order.push(i);
      });
    }
    return { times, order };
  }

  it('lets a burst through at once, then spaces callers 1/qps apart', async () => {
    const bucket = new TokenBucket({ qps: 10, burst: 3, now: () => Date.now() });
    const { times } = grantTimes(bucket, 6);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(times).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it('grants waiting callers in arrival order', async () => {
    const bucket = new TokenBucket({ qps: 5, burst: 1, now: () => Date.now() });
    const { order } = grantTimes(bucket, 5);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('does not let a newcomer jump the queue when a token comes back', async () => {
    const bucket = new TokenBucket({ qps: 10, burst: 1, now: () => Date.now() });
    const granted: string[] = [];
    void bucket.acquire().then(() => granted.push('first'));
    void bucket.acquire().then(() => granted.push('waiting'));
    await vi.advanceTimersByTimeAsync(99);
    // A token is almost back; a new caller arriving now must still queue behind 'waiting'.
    void bucket.acquire().then(() => granted.push('newcomer'));
    await vi.advanceTimersByTimeAsync(300);
    expect(granted).toEqual(['first', 'waiting', 'newcomer']);
  });

  it('serves urgent callers ahead of those already waiting, and in their own arrival order', async () => {
    const bucket = new TokenBucket({ qps: 10, burst: 1, now: () => Date.now() });
    const granted: string[] = [];
    void bucket.acquire().then(() => granted.push('first'));
    void bucket.acquire().then(() => granted.push('poll 1'));
    void bucket.acquire().then(() => granted.push('poll 2'));
    void bucket.acquire(true).then(() => granted.push('command 1'));
    void bucket.acquire(true).then(() => granted.push('command 2'));
    expect(bucket.waiting).toBe(4);
    await vi.advanceTimersByTimeAsync(150);
    expect(granted).toEqual(['first', 'command 1']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(granted).toEqual(['first', 'command 1', 'command 2', 'poll 1', 'poll 2']);
  });

  it('keeps the reserve for urgent callers: a command goes at once while polls wait, and the polls still get qps', async () => {
    const bucket = new TokenBucket({ qps: 10, burst: 4, urgentReserve: 3, now: () => Date.now() });
    // Polls take the one token above the reserve at once, then wait: the three reserved tokens stay in the bucket.
    const polls = grantTimes(bucket, 4);
    await vi.advanceTimersByTimeAsync(0);
    expect(polls.times).toEqual([0]);
    const command: number[] = [];
    for (let i = 0; i < 4; i++) void bucket.acquire(true).then(() => command.push(Date.now()));
    await vi.advanceTimersByTimeAsync(1_000);
    // Three from the reserve at once, the fourth at the next token; the polls only once the reserve is full again.
    expect(command).toEqual([0, 0, 0, 100]);
    expect(polls.times).toEqual([0, 500, 600, 700]);
  });

  it('never reserves the whole burst, so callers that are not urgent are still served', async () => {
    const bucket = new TokenBucket({ qps: 10, burst: 2, urgentReserve: 5, now: () => Date.now() });
    expect(bucket.urgentReserve).toBe(1);
    const { times } = grantTimes(bucket, 2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(times).toEqual([0, 100]);
  });

  it('refills up to the burst after a quiet spell, and no further', async () => {
    const bucket = new TokenBucket({ qps: 100, burst: 2, now: () => Date.now() });
    await bucket.acquire();
    await bucket.acquire();
    await vi.advanceTimersByTimeAsync(10_000);
    const { times } = grantTimes(bucket, 3);
    await vi.advanceTimersByTimeAsync(100);
    expect(times).toEqual([10_000, 10_000, 10_010]);
  });

  it('keeps at most one timer while callers wait and none once they are served', async () => {
    const bucket = new TokenBucket({ qps: 10, burst: 1, now: () => Date.now() });
    grantTimes(bucket, 20);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    // One at once from the burst, then one every 100 ms up to and including t=1000: 11 served, 9 still queued.
    expect(bucket.waiting).toBe(9);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(bucket.waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails waiting callers and clears its timer when closed', async () => {
    const bucket = new TokenBucket({ qps: 1, burst: 1, now: () => Date.now() });
    await bucket.acquire();
    const waiting = bucket.acquire();
    expect(vi.getTimerCount()).toBe(1);
    bucket.close();
    await expect(waiting).rejects.toBeInstanceOf(RateLimiterClosedError);
    expect(vi.getTimerCount()).toBe(0);
    await expect(bucket.acquire()).rejects.toBeInstanceOf(RateLimiterClosedError);
  });

  it('rejects settings that could never grant a token', () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 })).toThrow(/qps/);
    expect(() => new TokenBucket({ qps: 1, burst: 0 })).toThrow(/burst/);
  });
});

describe('TokenBucket on the real clock', () => {
  it('holds a long queue to roughly qps (generous bounds)', async () => {
    const bucket = new TokenBucket({ qps: 50, burst: 5 });
    const started = performance.now();
    await Promise.all(Array.from({ length: 30 }, () => bucket.acquire()));
    const elapsed = performance.now() - started;
    // 25 callers past the burst at 50/s need 500 ms at the least; the upper bound only guards against a stall.
    expect(elapsed).toBeGreaterThanOrEqual(480);
    expect(elapsed).toBeLessThan(5_000);
  });
});
