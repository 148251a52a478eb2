import { describe, expect, it } from 'vitest';
import { isUrgent, runUrgently } from '../../../src/clusters/urgency.ts';

describe('urgency', () => {
  it('holds through awaits inside runUrgently and nowhere else', async () => {
    expect(isUrgent()).toBe(false);
    const seen = await runUrgently(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return Promise.all([Promise.resolve().then(isUrgent), new Promise((r) => setImmediate(() => r(isUrgent())))]);
    });
    expect(seen).toEqual([true, true]);
    expect(isUrgent()).toBe(false);
  });
});
