import { claimFor, type Batch } from './claims.js';
import type { CycleDeps } from './cycle.js';

export { leaseKeptMs } from './claims.js';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function unwrap<T>(result: Settled<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

export interface StepResult {
  claimed: number;
  /**
   * False when the relay has caught up: wait for NOTIFY or the poll interval before the next step.
   * True after an empty claim that flagged rows blocked: the next window reaches further.
   */
  more: boolean;
  /** Set when the broker could not be reached: the batch (and any batch claimed ahead) went back. */
  unavailable?: unknown;
}

/**
 * The relay's batch cycle, pipelined: while batch N is sent, batch N+1 is claimed and batch N-1 is
 * marked, each on its own connection; sends stay one at a time (acks=all, one request in flight).
 *
 * Why aggregate order still holds: a claim takes a row only if every earlier unpublished row of its
 * aggregate is in the same claim; rows of batches still in flight are PENDING and leased, so they
 * block their aggregates' later rows. Every batch therefore holds rows whose predecessors are either
 * in it or already acknowledged by Kafka (PUBLISHED is only written after the ack), whatever the
 * order in which batches are sent and marked.
 *
 * A batch waits for its send (claimed ahead, behind a slow send), so its lease is renewed just before
 * it is sent (see Publisher); rows another relay took over meanwhile are dropped, and so are later
 * rows of their aggregates.
 */
export class RelayPipeline {
  private ahead?: Promise<Settled<Batch>>;
  private marking?: Promise<Settled<void>>;
  /** Batches claimed and not yet marked, given back or abandoned: what a forced stop drops. */
  private readonly held = new Set<Batch>();
  /** Claims still running (a forced stop waits for them: their rows go straight back). */
  private readonly claiming = new Set<Promise<unknown>>();
  private dropped = false;

  private readonly claimBatch: () => Promise<Batch>;

  constructor(private readonly deps: CycleDeps) {
    this.claimBatch = claimFor(deps);
  }

  async step(): Promise<StepResult> {
    const { batch, early } = await this.take();
    const { events, blocked } = batch;
    if (events.length === 0) {
      await this.marked();
      return { claimed: 0, more: blocked > 0 };
    }
    const full = events.length === this.deps.options.batchSize;
    // A full batch suggests more is due: claim the next one while this one is sent.
    if (full && !this.deps.signal.aborted) this.ahead = settle(this.claim());
    const timer = this.deps.metrics.batchDuration.startTimer();
    let outcome;
    try {
      outcome = await this.deps.publisher.publish(events, batch.renew);
    } catch (err) {
      await this.settled(batch, batch.abandon());
      throw err;
    }
    await this.marked();
    this.marking = settle(this.settled(batch, batch.record(outcome)).then(() => void timer()));
    // Only a batch followed by another one is marked in the background; otherwise finish now, so
    // that the next claim sees this batch's rows settled.
    if (outcome.unavailable !== undefined || !this.ahead) await this.finish();
    // A batch claimed early may be short only because this batch's rows still blocked their
    // successors: do not go to sleep on it.
    return { claimed: events.length, more: full || early, unavailable: outcome.unavailable };
  }

  /** Waits for marks in flight and gives back a batch claimed ahead. Throws a failed mark's error. */
  async finish(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = undefined;
    try {
      const claimed = ahead ? await ahead : undefined;
      if (claimed?.ok && claimed.value.events.length > 0)
        await this.settled(claimed.value, claimed.value.giveBack());
    } finally {
      await this.marked();
    }
  }

  /**
   * Forced stop: whatever the sends in flight do, nothing stays held. Waits for the claims and marks
   * running now (a claim that returns after this point gives its rows back at once; a mark records
   * rows Kafka took), then drops every batch still held: lock mode closes its transaction's
   * connection (PostgreSQL rolls back: the rows are free); lease mode leaves its rows to the caller's
   * releaseLeases (one statement for every row of this relay). A send still in flight may yet land
   * on Kafka: its rows are then published again (at least once); its late mark is fenced.
   */
  async drop(): Promise<void> {
    this.dropped = true;
    await Promise.allSettled([...this.claiming]);
    await this.marking;
    await Promise.allSettled([...this.held].map((batch) => this.settled(batch, batch.drop())));
  }

  /** The batch claimed ahead if any (a fresh claim if that one came back empty), else a fresh claim. */
  private async take(): Promise<{ batch: Batch; early: boolean }> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead) {
      const claimed = unwrap(await ahead);
      if (claimed.events.length > 0) return { batch: claimed, early: true };
    }
    await this.marked();
    return { batch: await this.claim(), early: false };
  }

  /** One claim, tracked until its batch is settled; after drop() its rows go straight back. */
  private async claim(): Promise<Batch> {
    const claim = this.claimBatch();
    this.claiming.add(claim);
    try {
      const batch = await claim;
      if (!this.dropped) {
        if (batch.events.length > 0) this.held.add(batch);
        return batch;
      }
      await batch.giveBack();
      return { ...batch, events: [] };
    } finally {
      this.claiming.delete(claim);
    }
  }

  /** The batch is no longer held once `done` has settled (its rows marked, given back or dropped). */
  private async settled<T>(batch: Batch, done: Promise<T>): Promise<T> {
    try {
      return await done;
    } finally {
      this.held.delete(batch);
    }
  }

  private async marked(): Promise<void> {
    const marking = this.marking;
    this.marking = undefined;
    if (marking) unwrap(await marking);
  }
}
