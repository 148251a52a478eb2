import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';

describe('config', () => {
  it('fills every variable with its default when the environment is empty', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      OLEADA_HOST: '127.0.0.1',
      OLEADA_PORT: 8080,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:15432/oleada',
      REDIS_URL: 'redis://127.0.0.1:16379',
      OLEADA_QUEUE_PREFIX: 'oleada',
      OLEADA_LOG_LEVEL: 'info',
      OLEADA_METRICS_AUTH: false,
      OLEADA_WATCH_CACHE: true,
      OLEADA_WATCH_SWEEP_SECONDS: 10,
    });
    expect(() => loadConfig({ OLEADA_WATCH_SWEEP_SECONDS: '0' })).toThrow(/OLEADA_WATCH_SWEEP_SECONDS.*a number of seconds above 0/);
  });

  it('lets the heap grow 30% past its live data by default, and takes 0 (V8 chooses) to 300', () => {
    expect(loadConfig({}).OLEADA_HEAP_GROWTH_PERCENT).toBe(30);
    expect(loadConfig({ OLEADA_HEAP_GROWTH_PERCENT: '0' }).OLEADA_HEAP_GROWTH_PERCENT).toBe(0);
    expect(() => loadConfig({ OLEADA_HEAP_GROWTH_PERCENT: '400' })).toThrow(/OLEADA_HEAP_GROWTH_PERCENT="400" is invalid: expected a whole number of percent from 0/);
  });

  it('turns the watch caches off with 0 or false', () => {
    expect(loadConfig({ OLEADA_WATCH_CACHE: '0' }).OLEADA_WATCH_CACHE).toBe(false);
    expect(loadConfig({ OLEADA_WATCH_CACHE: 'false' }).OLEADA_WATCH_CACHE).toBe(false);
    expect(loadConfig({ OLEADA_WATCH_CACHE: '1' }).OLEADA_WATCH_CACHE).toBe(true);
  });

  it('converts numbers and booleans from their text', () => {
    const config = loadConfig({ OLEADA_PORT: '9000', OLEADA_WORKER_CONCURRENCY: '8', OLEADA_METRICS_AUTH: 'true', OLEADA_LEASE_SECONDS: '2.5' });
    expect(config.OLEADA_PORT).toBe(9000);
    expect(config.OLEADA_WORKER_CONCURRENCY).toBe(8);
    expect(config.OLEADA_METRICS_AUTH).toBe(true);
    expect(config.OLEADA_LEASE_SECONDS).toBe(2.5);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ OLEADA_PORT: '' }).OLEADA_PORT).toBe(8080);
  });

  it.each([
    ['OLEADA_PORT', '70000', /OLEADA_PORT="70000" is invalid: expected a port number from 0 to 65535/],
    ['OLEADA_PORT', 'eighty', /OLEADA_PORT="eighty" is invalid/],
    ['OLEADA_WORKER_HEALTH_PORT', '-1', /OLEADA_WORKER_HEALTH_PORT="-1" is invalid: expected a port number from 0 to 65535/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL="mysql:\/\/x" is invalid: expected a postgres:\/\/ URL/],
    ['REDIS_URL', 'localhost:6379', /REDIS_URL="localhost:6379" is invalid: expected a redis:\/\/ or rediss:\/\/ URL/],
    ['OLEADA_LOG_LEVEL', 'loud', /OLEADA_LOG_LEVEL="loud" is invalid: expected one of fatal, error/],
    ['OLEADA_QUEUE_PREFIX', 'has space', /OLEADA_QUEUE_PREFIX="has space" is invalid/],
    ['OLEADA_WORKER_CONCURRENCY', '0', /OLEADA_WORKER_CONCURRENCY="0" is invalid: expected a whole number from 1 to 1000/],
    ['OLEADA_METRICS_AUTH', 'maybe', /OLEADA_METRICS_AUTH="maybe" is invalid: expected true or false/],
  ])('rejects %s=%s with a message that names the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('reads the Slack settings, with Slack\'s own Web API as the default', () => {
    expect(loadConfig({}).OLEADA_SLACK_API_URL).toBe('https://slack.com/api/');
    expect(loadConfig({}).OLEADA_SLACK_SIGNING_SECRET).toBeUndefined();
    const config = loadConfig({ OLEADA_SLACK_SIGNING_SECRET: 'abcdef0123456789', OLEADA_SLACK_BOT_TOKEN: 'xoxb-1-2-abc', OLEADA_SLACK_API_URL: 'http://127.0.0.1:9/api/' });
    expect(config).toMatchObject({ OLEADA_SLACK_SIGNING_SECRET: 'abcdef0123456789', OLEADA_SLACK_BOT_TOKEN: 'xoxb-1-2-abc', OLEADA_SLACK_API_URL: 'http://127.0.0.1:9/api/' });
  });

  it('never shows a Slack secret in its error message, only that it is wrong', () => {
    const secret = 'short';
    const token = 'not-a-token-but-secret';
    try {
      loadConfig({ OLEADA_SLACK_SIGNING_SECRET: secret, OLEADA_SLACK_BOT_TOKEN: token });
      expect.unreachable();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/OLEADA_SLACK_SIGNING_SECRET=\(5 characters, not shown\) is invalid/);
      expect(message).toMatch(/OLEADA_SLACK_BOT_TOKEN=.* is invalid: expected a Slack bot token/);
      expect(message).not.toContain(secret);
      expect(message).not.toContain(token);
    }
  });

  it('reads the hook signing secret and never shows a bad one in its error message', () => {
    expect(loadConfig({}).OLEADA_HOOK_SIGNING_SECRET).toBeUndefined();
    const good = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(loadConfig({ OLEADA_HOOK_SIGNING_SECRET: good }).OLEADA_HOOK_SIGNING_SECRET).toBe(good);
    const bad = 'whsec_has spaces in it and is secret';
    expect(() => loadConfig({ OLEADA_HOOK_SIGNING_SECRET: bad })).toThrow(/OLEADA_HOOK_SIGNING_SECRET=\(\d+ characters, not shown\) is invalid: expected a Standard Webhooks secret/);
    try {
      loadConfig({ OLEADA_HOOK_SIGNING_SECRET: bad });
    } catch (err) {
      expect((err as Error).message).not.toContain('is secret');
    }
  });

  it('names every bad variable at once, one per line', () => {
    try {
      loadConfig({ OLEADA_PORT: '-1', REDIS_URL: 'nope' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message.split('\n').sort()).toEqual([
        expect.stringMatching(/^OLEADA_PORT=/),
        expect.stringMatching(/^REDIS_URL=/),
      ]);
    }
  });
});
