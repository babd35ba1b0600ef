import type { TopicPartitionOffsetAndMetadata } from 'kafkajs';

/** How long a finished chunk's offset may wait to be committed together with the chunks after it. */
export const COMMIT_INTERVAL_MS = 100;

/**
 * A consumer's offset commits, at most one per interval, carrying the latest offset of each partition.
 * Committing late is safe: a chunk's effects are claimed in the database (the inbox) before its offset
 * reaches this, so an offset committed late, or never (a crash, a rebalance), means its events are
 * delivered again and found done: nothing lost, nothing applied twice. A commit per chunk cost a broker
 * write to `__consumer_offsets` and a round trip per chunk: at ordinary load, with one or two events
 * per chunk, about a third of the broker's CPU (docs/performance.md).
 *
 * Commits never overlap, so a partition's committed offset only moves forward. A failed commit is
 * reported to `onError`, never thrown: the next one carries later offsets.
 */
export class OffsetCommitter {
  private readonly pending = new Map<string, TopicPartitionOffsetAndMetadata>();
  private timer?: NodeJS.Timeout;
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly commit: (offsets: TopicPartitionOffsetAndMetadata[]) => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = COMMIT_INTERVAL_MS,
  ) {}

  /** Records the next offset to read of a partition: committed within the interval. */
  add(offset: TopicPartitionOffsetAndMetadata): void {
    this.pending.set(`${offset.topic}\0${offset.partition}`, offset);
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.intervalMs);
    // A pending commit never keeps a process alive (its events would be delivered again, found done).
    this.timer.unref();
  }

  /** Commits what is pending now, after the commit in flight; resolves when done (or failed). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return this.last;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    this.last = this.last
      .then(() => this.commit(offsets))
      .then(
        () => undefined,
        (err: unknown) => {
          this.onError(err);
        },
      );
    return this.last;
  }
}
