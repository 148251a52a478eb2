import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

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
