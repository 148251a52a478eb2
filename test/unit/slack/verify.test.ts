import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackRequest } from '../../../src/slack/verify.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = 1_531_420_618_000;

describe('the Slack v0 signature', () => {
  // The worked example of Slack's documentation ("Verifying requests from Slack"): same secret, timestamp and body.
  const body = Buffer.from(
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  );
  const documented = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

  it('computes the signature of Slack\'s own example', () => {
    expect(slackSignature(SECRET, '1531420618', body)).toBe(documented);
  });

  it('accepts that request within five minutes of its timestamp', () => {
    expect(verifySlackRequest(SECRET, { timestamp: '1531420618', signature: documented }, body, NOW)).toBe(true);
    expect(verifySlackRequest(SECRET, { timestamp: '1531420618', signature: documented }, body, NOW + 299_000)).toBe(true);
  });

  it.each([
    ['six minutes later', { timestamp: '1531420618', signature: documented }, body, NOW + 360_000],
    ['six minutes earlier', { timestamp: '1531420618', signature: documented }, body, NOW - 360_000],
    ['a changed body', { timestamp: '1531420618', signature: documented }, Buffer.concat([body, Buffer.from('&x=1')]), NOW],
    ['another timestamp under the same signature', { timestamp: '1531420619', signature: documented }, body, NOW],
    ['an upper-case signature', { timestamp: '1531420618', signature: documented.toUpperCase() }, body, NOW],
    ['a truncated signature', { timestamp: '1531420618', signature: documented.slice(0, -2) }, body, NOW],
    ['a v1 signature', { timestamp: '1531420618', signature: documented.replace('v0=', 'v1=') }, body, NOW],
    ['no signature', { timestamp: '1531420618', signature: undefined }, body, NOW],
    ['no timestamp', { timestamp: undefined, signature: documented }, body, NOW],
    ['a repeated header', { timestamp: ['1531420618', '1531420618'], signature: documented }, body, NOW],
    ['a timestamp that is not a number', { timestamp: '1531420618.5', signature: documented }, body, NOW],
  ])('refuses %s', (_case, headers, raw, now) => {
    expect(verifySlackRequest(SECRET, headers, raw, now)).toBe(false);
  });
});
