import { describe, expect, it } from 'vitest';
import type { ChangeFeed } from '../../../src/api/live/change-feed.ts';
import { VersionCache } from '../../../src/api/live/version-cache.ts';
import type { RolloutChange } from '../../../src/store/notify.ts';

/** A feed driven by the test: the cache's only input, so its rules can be checked one event at a time. */
class ScriptedFeed implements ChangeFeed {
  listening = true;
  private any = new Set<(c: RolloutChange) => void>();
  private resets = new Set<() => void>();
  onRollout(): () => void {
    return () => {};
  }
  onAny(listener: (c: RolloutChange) => void) {
    this.any.add(listener);
    return () => this.any.delete(listener);
  }
  onReset(listener: () => void) {
    this.resets.add(listener);
    return () => this.resets.delete(listener);
  }
  change(id: string, version: number) {
    for (const l of this.any) l({ id, version });
  }
  lose() {
    this.listening = false;
    for (const l of this.resets) l();
  }
  async close() {}
}

const A = '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f';

describe('VersionCache', () => {
  it('answers from memory after a read and follows notifications', () => {
    const feed = new ScriptedFeed();
    const cache = new VersionCache(feed);
    expect(cache.get(A)).toBeUndefined();
    cache.remember(cache.begin(), A, 'checkout', 3);
    expect(cache.get(A)).toEqual({ app: 'checkout', version: 3 });
    feed.change(A, 4);
    expect(cache.get(A)).toEqual({ app: 'checkout', version: 4 });
  });

  it('never lets a slow read lower a version a notification already raised', () => {
    const feed = new ScriptedFeed();
    const cache = new VersionCache(feed);
    const ticket = cache.begin();
    feed.change(A, 9); // committed while the read was in flight
    cache.remember(ticket, A, 'checkout', 8);
    expect(cache.get(A)).toEqual({ app: 'checkout', version: 9 });
  });

  it('forgets everything when the feed loses its connection, and refuses reads begun before', () => {
    const feed = new ScriptedFeed();
    const cache = new VersionCache(feed);
    cache.remember(cache.begin(), A, 'checkout', 3);
    const ticket = cache.begin();
    feed.lose();
    expect(cache.get(A)).toBeUndefined();
    feed.listening = true;
    cache.remember(ticket, A, 'checkout', 3);
    expect(cache.get(A)).toBeUndefined();
    cache.remember(cache.begin(), A, 'checkout', 5);
    expect(cache.get(A)).toEqual({ app: 'checkout', version: 5 });
  });

  it('answers nothing while the feed is not listening', () => {
    const feed = new ScriptedFeed();
    const cache = new VersionCache(feed);
    cache.remember(cache.begin(), A, 'checkout', 3);
    feed.listening = false;
    expect(cache.get(A)).toBeUndefined();
  });

  it('stays within its capacity, and trimming voids reads in flight', () => {
    const feed = new ScriptedFeed();
    const cache = new VersionCache(feed, 100);
    const ticket = cache.begin();
    for (let i = 0; i < 250; i++) feed.change(`00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, 1);
    expect(cache.size).toBeLessThanOrEqual(100);
    cache.remember(ticket, A, 'checkout', 1);
    expect(cache.get(A)).toBeUndefined();
  });
});
