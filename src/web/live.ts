/**
 * A rollout kept current. Its status and its event timeline come on one Server-Sent Events stream
 * (`/events/stream?status=true`), the stream the CLI's --wait follows: an open rollout page costs the server what a
 * --wait costs, and nothing at all while the rollout stands still. When the stream cannot be had (a proxy that cuts or
 * buffers streams, an API restarting), the page polls as it did before (the status with If-None-Match, then the
 * events after the last one shown) and tries the stream again after a pause that grows. Nothing runs while the tab is
 * hidden: a hidden tab closes its stream, which also leaves the browser's six connections per host to the tabs in use.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { isTerminal } from '../model/state.ts';
import { SseParser } from '../model/sse.ts';
import { api, ApiError, Unreachable } from './api.ts';
import type { Rollout, RolloutEvent } from './types.ts';

/** How the page learns of changes: the stream, polls while the stream is broken, or nothing more (the rollout ended). */
export type LiveMode = 'stream' | 'polling' | 'ended';

export interface LiveRollout {
  rollout: Rollout | undefined;
  /** The ETag of the status shown: commands carry it in If-Match. */
  etag: string | null;
  /** Newest first. */
  events: RolloutEvent[];
  error: ApiError | undefined;
  mode: LiveMode | undefined;
  /** Look now (after a command); while the stream is open, the change comes on it anyway. */
  refresh: () => void;
}

const POLL_MS = 2_000;
/** The server sends a heartbeat every 15 s; three missed mean the stream is dead although the socket is open. */
const SILENCE_MS = 45_000;
const STREAM_RETRY_MIN_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;

type StreamOutcome = 'ended' | 'broken' | 'hidden' | 'stopped' | 'refused';

interface State {
  rollout: Rollout | undefined;
  etag: string | null;
  events: RolloutEvent[];
  error: ApiError | undefined;
  mode: LiveMode | undefined;
}

const EMPTY: State = { rollout: undefined, etag: null, events: [], error: undefined, mode: undefined };

export function useLiveRollout(id: string): LiveRollout {
  const [state, setState] = useState<State>(EMPTY);
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    const path = `/api/v1/rollouts/${encodeURIComponent(id)}`;
    let stopped = false;
    let lastSeq = 0;
    let wake: (() => void) | undefined;
    let stream: AbortController | undefined;
    setState(EMPTY);

    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
      });
    const nudge = () => wake?.();
    const update = (change: Partial<State>) => setState((s) => ({ ...s, ...change }));
    const addEvents = (fresh: RolloutEvent[]) => {
      if (fresh.length === 0) return;
      lastSeq = fresh.at(-1)!.seq;
      setState((s) => ({ ...s, events: [...fresh.reverse(), ...s.events] }));
    };

    async function followStream(): Promise<StreamOutcome> {
      const control = new AbortController();
      stream = control;
      let silence = setTimeout(() => control.abort(), SILENCE_MS);
      try {
        const response = await api.stream(`${path}/events/stream?status=true&after=${lastSeq}`, control.signal);
        update({ mode: 'stream' });
        const reader = response.body!.getReader();
        const parser = new SseParser();
        const decoder = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return 'broken';
          clearTimeout(silence);
          silence = setTimeout(() => control.abort(), SILENCE_MS);
          const fresh: RolloutEvent[] = [];
          let ended = false;
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            if (message.event === 'status') {
              const status = JSON.parse(message.data) as { etag: string; rollout: Rollout };
              update({ rollout: status.rollout, etag: status.etag, error: undefined });
            } else if (message.event === 'event') {
              const event = JSON.parse(message.data) as RolloutEvent;
              if (event.seq > (fresh.at(-1)?.seq ?? lastSeq)) fresh.push(event);
            } else if (message.event === 'end') {
              ended = true;
            }
          }
          addEvents(fresh);
          if (ended) return 'ended';
        }
      } catch (err) {
        if (stopped) return 'stopped';
        if (document.visibilityState === 'hidden') return 'hidden';
        if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
          update({ error: err });
          return 'refused';
        }
        return 'broken';
      } finally {
        clearTimeout(silence);
        control.abort();
        stream = undefined;
      }
    }

    /** One poll: the status if it changed, then the events it says were added. True once nothing more can change. */
    async function pollOnce(): Promise<boolean> {
      const answer = await api.get<Rollout>(path);
      if (stopped) return true;
      if (answer.changed) update({ rollout: answer.body, etag: answer.etag, error: undefined });
      while (answer.body.lastEventSeq > lastSeq && !stopped) {
        const page = await api.get<{ items: RolloutEvent[] }>(`${path}/events?after=${lastSeq}&limit=1000`);
        const fresh = page.body.items.filter((e) => e.seq > lastSeq);
        if (fresh.length === 0) break;
        addEvents(fresh);
      }
      return isTerminal(answer.body.phase) && lastSeq >= answer.body.lastEventSeq;
    }

    let streamAt = 0;
    let streamDelay = STREAM_RETRY_MIN_MS;
    async function run(): Promise<void> {
      let pollDelay = POLL_MS;
      while (!stopped) {
        if (document.visibilityState === 'hidden') {
          await pause(MAX_BACKOFF_MS);
          continue;
        }
        if (Date.now() >= streamAt) {
          const opened = Date.now();
          const outcome = await followStream();
          if (outcome === 'ended') return update({ mode: 'ended' });
          if (outcome === 'stopped' || outcome === 'refused') return;
          if (outcome === 'hidden') continue;
          // A stream that lasted was fine; one that broke at once waits longer each time before the next try.
          streamDelay = Date.now() - opened > MAX_BACKOFF_MS ? STREAM_RETRY_MIN_MS : Math.min(streamDelay * 2, MAX_BACKOFF_MS);
          streamAt = Date.now() + streamDelay;
          update({ mode: 'polling' });
        }
        try {
          if (await pollOnce()) return update({ mode: 'ended' });
          pollDelay = POLL_MS;
        } catch (err) {
          if (stopped) return;
          if (err instanceof Unreachable) pollDelay = Math.min(Math.max(pollDelay * 2, 1000), MAX_BACKOFF_MS);
          else if (err instanceof ApiError) {
            update({ error: err });
            if ([401, 403, 404].includes(err.status)) return;
          } else throw err;
        }
        await pause(Math.min(pollDelay, Math.max(0, streamAt - Date.now())));
      }
    }

    const onVisibility = () => {
      if (document.visibilityState === 'hidden') stream?.abort();
      else nudge();
    };
    // The API is back (the banner's probe saw it): open the stream again at once instead of after the backoff.
    const offReachable = api.subscribe(() => {
      if (!api.reachable) return;
      streamAt = 0;
      streamDelay = STREAM_RETRY_MIN_MS;
      nudge();
    });
    document.addEventListener('visibilitychange', onVisibility);
    kick.current = nudge;
    void run();
    return () => {
      stopped = true;
      stream?.abort();
      nudge();
      offReachable();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [id]);

  const refresh = useCallback(() => kick.current(), []);
  return { ...state, refresh };
}
