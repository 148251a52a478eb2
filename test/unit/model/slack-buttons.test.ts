import { describe, expect, it } from 'vitest';
import { decodeButtonValue, encodeButtonValue } from '../../../src/model/slack-buttons.ts';

describe('Slack button values', () => {
  it('reads back what it wrote, wave and cluster included', () => {
    const value = { rolloutId: 'ro_123', revision: 7, wave: 'prod', cluster: 'eu-1' };
    expect(decodeButtonValue(encodeButtonValue(value))).toEqual(value);
  });

  it('refuses values Oleada did not write: not JSON, a missing revision, extra fields, a negative revision', () => {
    expect(decodeButtonValue('approve')).toBeUndefined();
    expect(decodeButtonValue(JSON.stringify({ rolloutId: 'ro_1' }))).toBeUndefined();
    expect(decodeButtonValue(JSON.stringify({ rolloutId: 'ro_1', revision: 1, admin: true }))).toBeUndefined();
    expect(decodeButtonValue(JSON.stringify({ rolloutId: 'ro_1', revision: -1 }))).toBeUndefined();
    expect(decodeButtonValue(`{"rolloutId":"${'x'.repeat(2100)}","revision":1}`)).toBeUndefined();
  });
});
