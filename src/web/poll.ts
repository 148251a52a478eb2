/**
 * Polling that costs little: each poll revalidates with If-None-Match (the client does that), none runs while the tab
 * is hidden, and while the API is unreachable the delay doubles up to a minute, so a dead API is not hammered.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, Unreachable } from './api.ts';

export interface Polled<T> {
  data: T | undefined;
  etag: string | null;
  error: ApiError | undefined;
  /** Fetch now, outside the schedule (after a command). */
  refresh: () => void;
}

const MAX_BACKOFF_MS = 60_000;

export function usePoll<T>(path: string | null, intervalMs: number): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; etag: string | null; error: ApiError | undefined }>({
    data: undefined,
    etag: null,
    error: undefined,
  });
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    if (path === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = intervalMs;
    setState({ data: undefined, etag: null, error: undefined });
    const run = async () => {
      clearTimeout(timer);
      if (stopped) return;
      if (document.visibilityState === 'hidden') {
        timer = setTimeout(run, intervalMs);
        return;
      }
      try {
        const answer = await api.get<T>(path);
        if (stopped) return;
        delay = intervalMs;
        if (answer.changed) setState({ data: answer.body, etag: answer.etag, error: undefined });
      } catch (err) {
        if (stopped) return;
        if (err instanceof Unreachable) delay = Math.min(Math.max(delay * 2, 1000), MAX_BACKOFF_MS);
        else if (err instanceof ApiError) setState((s) => ({ ...s, error: err }));
        else throw err;
      }
      timer = setTimeout(run, delay);
    };
    kick.current = () => void run();
    const onVisible = () => document.visibilityState === 'visible' && void run();
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [path, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  return { ...state, refresh };
}

/** A clock that re-renders its user every second, for countdowns. */
export function useNow(periodMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}
