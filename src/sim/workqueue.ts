// A de-duplicating work queue with delayed adds, like client-go's: controllers enqueue keys from store events and
// handle them later, never inside the event callback, so that watchers see events in resourceVersion order.

export interface WorkQueueOptions {
  /** Keys handled per turn of the event loop before yielding, so HTTP requests are served during a big reconcile. */
  batch?: number;
  onError?: (key: string, err: unknown) => void;
}

interface Delayed {
  at: number;
  key: string;
}

export class WorkQueue {
  private readonly pending = new Set<string>();
  private scheduled: NodeJS.Immediate | undefined;
  private readonly heap: Delayed[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly batch: number;

  constructor(
    private readonly handle: (key: string) => void,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.batch = options.batch ?? 200;
  }

  add(key: string): void {
    if (this.closed) return;
    this.pending.add(key);
    if (!this.scheduled) this.scheduled = setImmediate(() => this.drain());
  }

  /** Adds `key` once `delayMs` has passed. */
  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    this.push({ at: Date.now() + delayMs, key });
    this.armTimer();
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves when nothing is pending (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.timer) clearTimeout(this.timer);
    this.scheduled = undefined;
    this.timer = undefined;
    this.heap.length = 0;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private drain(): void {
    this.scheduled = undefined;
    let handled = 0;
    for (const key of this.pending) {
      if (handled++ >= this.batch) break;
      this.pending.delete(key);
      try {
        this.handle(key);
      } catch (err) {
        if (this.options.onError) this.options.onError(key, err);
        else console.error(`kube-sim: handling ${key.replaceAll('\u0000', '/')} failed`, err);
      }
      if (this.closed) return;
    }
    if (this.pending.size > 0) this.scheduled = setImmediate(() => this.drain());
    else for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private armTimer(): void {
    const next = this.heap[0];
    if (!next || next.at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next.at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.at - Date.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) this.add(this.pop()!.key);
    this.armTimer();
  }

  private push(item: Delayed): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  private pop(): Delayed | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && heap[left]!.at < heap[smallest]!.at) smallest = left;
        if (right < heap.length && heap[right]!.at < heap[smallest]!.at) smallest = right;
        if (smallest === i) break;
        [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}
