/**
 * The tokens file, kept current: read at start (a broken file stops the start with a message naming it), then looked
 * at every few seconds and reloaded when it changed, so adding or revoking a token needs no restart. A reload that
 * fails keeps the tokens that were in force and logs why.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from '../../log.ts';
import { TokenStore } from './tokens.ts';

export interface WatchedTokens {
  current(): TokenStore;
  close(): void;
}

export async function watchTokensFile(path: string, logger: Logger, intervalMs = 2_000): Promise<WatchedTokens> {
  let store = await TokenStore.load(path);
  let stamp = await fileStamp(path);
  logger.info({ path, tokens: store.size }, 'loaded API tokens');
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        const now = await fileStamp(path);
        if (now === stamp) return;
        stamp = now;
        store = await TokenStore.load(path);
        logger.info({ path, tokens: store.size }, 'reloaded API tokens');
      } catch (err) {
        logger.error({ err, path }, 'cannot reload the tokens file; the tokens loaded before stay in force');
      } finally {
        busy = false;
      }
    })();
  }, intervalMs);
  timer.unref();
  return {
    current: () => store,
    close: () => clearInterval(timer),
  };
}

async function fileStamp(path: string): Promise<string> {
  const info = await stat(path);
  return `${info.mtimeMs}:${info.size}:${info.ino}`;
}
