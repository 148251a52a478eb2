/**
 * Work done after Slack has its answer: Slack wants one within three seconds, and a command's outcome may take longer.
 * Each piece runs on its own, logs its failure, and is awaited when the server closes, so nothing is cut off halfway
 * (a command stored but its reply never sent).
 */
import { toError } from '../errors.ts';
import type { Logger } from '../log.ts';

export class BackgroundWork {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(what: string, work: () => Promise<void>): void {
    const done: Promise<void> = Promise.resolve()
      .then(work)
      .catch((err: unknown) => this.logger.error({ err: toError(err) }, `slack: ${what} failed`))
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves when every piece started so far has ended. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
