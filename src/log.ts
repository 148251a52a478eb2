import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** A logger writing JSON lines to stdout, or to `destination` (tests read what would be written). */
export function createLogger(level: string, name = 'oleada', destination?: DestinationStream): Logger {
  return pino({
    name,
    level,
    // Kubeconfig contents, tokens and Slack's secrets must never reach a log line, wherever they hide in an object.
    redact: {
      paths: [
        '*.token',
        '*.authorization',
        'req.headers.authorization',
        '*.kubeconfig.*',
        '*.signingSecret',
        '*.botToken',
        '*.OLEADA_SLACK_SIGNING_SECRET',
        '*.OLEADA_SLACK_BOT_TOKEN',
      ],
      censor: '[redacted]',
    },
  }, destination);
}
