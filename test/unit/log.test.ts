import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';

describe('the logger', () => {
  it('never writes a Slack secret or a token, wherever it sits in a logged object', () => {
    const lines: string[] = [];
    const logger = createLogger('info', 'test', { write: (line: string) => void lines.push(line) });
    logger.info(
      {
        slack: { signingSecret: 'sekret-signing', botToken: 'xoxb-sekret', apiUrl: 'https://slack.com/api/' },
        config: { OLEADA_SLACK_SIGNING_SECRET: 'sekret-env', OLEADA_SLACK_BOT_TOKEN: 'xoxb-env' },
        req: { headers: { authorization: 'Bearer olt_x' } },
      },
      'starting',
    );
    const text = lines.join('');
    for (const secret of ['sekret-signing', 'xoxb-sekret', 'sekret-env', 'xoxb-env', 'olt_x']) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({ slack: { signingSecret: '[redacted]', botToken: '[redacted]', apiUrl: 'https://slack.com/api/' } });
  });
});
