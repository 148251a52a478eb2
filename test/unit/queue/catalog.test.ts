import { describe, expect, it } from 'vitest';
import { payloadProblem } from '../../../src/queue/catalog.ts';

describe('job payload checks', () => {
  const rolloutId = '6f1c8a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';

  it('accepts a scheduled tick and a command wake-up', () => {
    expect(payloadProblem('tick', { rolloutId, reason: 'scheduled', dueAt: 1_700_000_000_000, version: 4 })).toBeUndefined();
    expect(payloadProblem('tick', { rolloutId, reason: 'command' })).toBeUndefined();
    expect(payloadProblem('deliver', { deliveryId: `msg_${'ab'.repeat(16)}`, attempt: 0 })).toBeUndefined();
  });

  it('names the field that is wrong', () => {
    expect(payloadProblem('tick', { rolloutId: 'not-a-uuid', reason: 'scheduled' })).toMatch(/^invalid tick payload at \/rolloutId: /);
    expect(payloadProblem('tick', { rolloutId, reason: 'later' })).toMatch(/^invalid tick payload at \/reason: /);
    expect(payloadProblem('tick', { rolloutId, reason: 'scheduled', version: -1 })).toMatch(/at \/version: /);
    expect(payloadProblem('deliver', { deliveryId: 'msg_1', attempt: 0 })).toMatch(/^invalid deliver payload at \/deliveryId: /);
  });

  it('refuses a payload with a field it does not know, as one from another Oleada version would have', () => {
    expect(payloadProblem('tick', { rolloutId, reason: 'scheduled', state: {} })).toMatch(/^invalid tick payload/);
  });
});
