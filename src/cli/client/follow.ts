/**
 * Follows a rollout's event stream to its end. A dropped connection (the API restarted, a proxy timed out, the
 * network blinked) is reopened with Last-Event-ID, so no event is lost or repeated; only errors that retrying cannot
 * fix, or a connection that stays down past the deadline, end the follow early.
 */
import type { RolloutEvent } from './types.ts';
import { toError } from '../../errors.ts';
import { ApiError, type ApiClient } from './http.ts';
import { SseParser } from '../../model/sse.ts';

export type FollowItem = { kind: 'event'; event: RolloutEvent } | { kind: 'end'; phase: string };

export interface FollowOptions {
  /** Events after this sequence number. */
  after?: number;
  /** Give up after the API has been unreachable this long without a break. */
  giveUpAfterMs?: number;
  /** Treat a connection that sends nothing (not even a heartbeat) this long as dead. */
  silenceMs?: number;
  /** Called before each reconnect, for a message. */
  onReconnect?: (reason: string, attempt: number) => void;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

export async function* followEvents(client: ApiClient, rolloutId: string, options: FollowOptions = {}): AsyncGenerator<FollowItem> {
  let last = options.after ?? 0;
  let failingSince: number | undefined;
  let attempt = 0;
  const giveUpAfterMs = options.giveUpAfterMs ?? 120_000;
  const silenceMs = options.silenceMs ?? 45_000;
  for (;;) {
    if (options.signal?.aborted) return;
    const controller = new AbortController();
    const abortOuter = () => controller.abort();
    options.signal?.addEventListener('abort', abortOuter, { once: true });
    let silence: NodeJS.Timeout | undefined;
    const armSilence = () => {
      clearTimeout(silence);
      silence = setTimeout(() => controller.abort(new Error(`no data for ${Math.round(silenceMs / 1000)} s`)), silenceMs);
    };
    let reason = 'the stream closed';
    try {
      armSilence();
      const response = await client.openStream(rolloutId, last, controller.signal);
      failingSince = undefined;
      attempt = 0;
      const parser = new SseParser();
      const decoder = new TextDecoder();
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        armSilence();
        for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (message.event === 'event') {
            const event = JSON.parse(message.data) as RolloutEvent;
            if (event.seq <= last) continue;
            last = event.seq;
            yield { kind: 'event', event };
          } else if (message.event === 'end') {
            yield { kind: 'end', phase: (JSON.parse(message.data) as { phase: string }).phase };
            return;
          }
        }
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      if (err instanceof ApiError && !err.retryable) throw err;
      reason = err instanceof ApiError ? err.message : controller.signal.reason !== undefined ? toError(controller.signal.reason).message : toError(err).message;
    } finally {
      clearTimeout(silence);
      options.signal?.removeEventListener('abort', abortOuter);
      controller.abort();
    }
    failingSince ??= Date.now();
    if (Date.now() - failingSince > giveUpAfterMs) {
      throw new ApiError(0, { status: 0, code: 'stream_lost', detail: `lost the event stream of ${rolloutId} for over ${Math.round(giveUpAfterMs / 1000)} s: ${reason}` });
    }
    attempt++;
    options.onReconnect?.(reason, attempt);
    await sleep(Math.min(250 * 2 ** Math.min(attempt - 1, 5), 5_000), options.signal);
  }
}
