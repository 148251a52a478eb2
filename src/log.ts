import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'oleada'): Logger {
  return pino({
    name,
    level,
    // Kubeconfig contents and tokens must never reach a log line, wherever they hide in an object.
    redact: { paths: ['*.token', '*.authorization', 'req.headers.authorization', '*.kubeconfig.*'], censor: '[redacted]' },
  });
}
