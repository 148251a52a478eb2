import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { toError } from '../errors.ts';

export interface DirectoryWatch {
  close(): void;
}

/**
 * Calls `onSettled` once changes around `file` have been quiet for `debounceMs`. It watches the file's directory, not
 * the file: editors save by writing a new file and renaming it over the old one, and Kubernetes updates a mounted
 * ConfigMap by swapping a `..data` symlink, and a watch on the old file sees neither. Every event in the directory
 * counts, because with a symlink swap the event names `..data`, not the file; callers compare contents anyway.
 */
export function watchDirectoryOf(
  file: string,
  onSettled: () => void,
  onError: (err: Error) => void,
  debounceMs: number,
): DirectoryWatch {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let closed = false;

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onSettled();
    }, debounceMs);
    // A pending reload alone must not keep a process alive.
    timer.unref();
  };

  try {
    // Not persistent: a watcher someone forgot to close must not keep the process from exiting.
    watcher = watch(dirname(file), { persistent: false }, schedule);
    watcher.on('error', (err) => {
      if (!closed) onError(err);
    });
  } catch (err) {
    queueMicrotask(() => onError(err as Error));
  }

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}

/**
 * Reloads a data file (the clusters file, the notifications file) when it changes and calls `onChange` with what
 * `load` made of it, only when that differs from the last (compared as JSON, starting from `initialKey`). A bad edit
 * calls `onError` once per distinct problem and keeps the last good value: the next good save is reported as a change.
 */
export function watchReloads<T>(
  path: string,
  load: () => Promise<T>,
  onChange: (value: T) => void,
  onError: (err: Error) => void,
  options: { initialKey: string | undefined; debounceMs: number },
): DirectoryWatch {
  let last = options.initialKey;
  let lastError: string | undefined;
  let closed = false;
  let running = false;
  let again = false;

  const report = (err: unknown) => {
    try {
      onError(toError(err));
    } catch {
      // An onError that throws has nowhere left to go; the watcher keeps running.
    }
  };

  // One reload at a time; changes during a reload cause one more, so the last state of the file is always read.
  const reload = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          const value = await load();
          if (closed) return;
          lastError = undefined;
          const key = JSON.stringify(value);
          if (key === last) continue;
          last = key;
          try {
            onChange(value);
          } catch (err) {
            report(err);
          }
        } catch (err) {
          if (closed) return;
          const message = toError(err).message;
          if (message === lastError) continue;
          lastError = message;
          report(err);
        }
      } while (again && !closed);
    } finally {
      running = false;
    }
  };

  const watch = watchDirectoryOf(path, () => void reload(), report, options.debounceMs);
  return {
    close() {
      closed = true;
      watch.close();
    },
  };
}
