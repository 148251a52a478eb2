/**
 * Where the rollouts table stands, as a word that moves whenever any rollout changes, so that a dashboard's poll of the
 * rollout list can be answered 304 from memory instead of reading and hashing a page of rows.
 *
 * The word is the last change the feed announced (`<id>:<version>`: versions only rise, so no change is announced
 * twice). PostgreSQL sends notifications in commit order to every listener, so every API process that has heard the
 * same last change names the same state, and a tag made by one process is understood by the others. Before the first
 * change after (re)connecting, the word is a fingerprint read from PostgreSQL (the count and the sum of the versions).
 * While the feed does not listen, or the fingerprint is on its way, there is no word: the list is read and hashed as
 * before.
 *
 * A tag is made from the word taken before the page is read, so a page can be newer than its tag, never older: a
 * change that lands between the two moves the word and the next poll gets a 200.
 */
import type { Logger } from '../../log.ts';
import { rolloutsFingerprint } from '../../store/rollout-reads.ts';
import type { Pool } from '../../store/pool.ts';
import type { ChangeFeed } from './change-feed.ts';

export class ListGeneration {
  private word: string | undefined;
  /** Moves at every change and reset, so a fingerprint read that raced one is not used. */
  private moves = 0;
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly feed: ChangeFeed,
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = [
      feed.onAny((change) => {
        this.moves++;
        this.word = `n.${change.id}.${change.version}`;
      }),
      feed.onReset(() => {
        this.moves++;
        this.word = undefined;
        if (this.feed.listening) void this.seed();
      }),
    ];
    if (feed.listening) void this.seed();
  }

  /** The current word, or undefined when the list must be read to know whether it changed. */
  current(): string | undefined {
    return this.feed.listening ? this.word : undefined;
  }

  private async seed(): Promise<void> {
    const before = this.moves;
    try {
      const fingerprint = await rolloutsFingerprint(this.pool);
      if (this.moves === before && this.feed.listening) this.word = `f.${fingerprint}`;
    } catch (err) {
      this.logger.warn({ err }, 'cannot read the rollouts fingerprint; list polls read the list until the next change');
    }
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.word = undefined;
  }
}
