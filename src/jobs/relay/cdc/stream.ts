import { LogicalReplicationService, type Pgoutput } from 'pg-logical-replication';
import type pg from 'pg';
import type { ClaimedEvent } from '../../../lib/outbox/claim.js';
import { aggregateKey } from '../../../lib/outbox/chain.js';
import {
  commitTimeMs,
  laterLsn,
  lsnToBigInt,
  outboxRowOf,
  RawTextPgoutputPlugin,
} from '../../../lib/outbox/cdc/decode.js';
import { HEARTBEAT_PREFIX, markPublishedInBulk } from '../../../lib/outbox/cdc/slot.js';
import { backoffDelay } from '../../../lib/backoff.js';
import { sleep } from '../../../lib/sleep.js';
import type { Logger } from '../../../lib/log.js';
import type { BatchOutcome, RenewLease } from '../batch.js';
import type { BatchPublisher } from '../cycle.js';

/**
 * One streaming session of the CDC relay: START_REPLICATION on the slot from its confirmed position,
 * until stop() or an error. Three stages, each one at a time, in stream (= commit) order:
 *
 * - receive: pgoutput messages (flow control: the socket is paused while the handler awaits, so a
 *   slow Kafka holds the WAL in PostgreSQL, not in our memory); each committed transaction's
 *   outbox inserts become one entry with the commit's end LSN; the heartbeat message an entry with
 *   no rows;
 * - send: the entries at the head, up to a batch of rows, through the relay's Publisher (idempotent
 *   producer, acks=all, one request in flight: the stream's order is each partition's order);
 * - mark: the acknowledged rows PUBLISHED in one statement (unnest), while the next batch is sent;
 *   once it committed, the slot's confirmed position moves to the last entry it covered.
 *
 * So the slot confirms a transaction only after Kafka acknowledged every one of its rows and every
 * earlier one, and they are marked: a restart (SIGTERM, SIGKILL, a lost connection) streams again from
 * the first transaction not both acknowledged and marked (at least once, some duplicates), and
 * `outbox status` never counts a confirmed row as PENDING.
 *
 * A row Kafka rejects takes the polling path: its attempt is recorded (retry backoff, FAILED at the
 * last), and its aggregate is held: later rows of it from the stream are not sent (they stay PENDING)
 * until the relay's sweep (the lease-mode claim, chain rule) has published the aggregate's rows in
 * order. The position still moves past them: they are the table's to publish now.
 */
export interface StreamDeps {
  connectionString: string;
  slot: string;
  publication: string;
  batchSize: number;
  publisher: BatchPublisher;
  /** Where marks go (the relay's pool). */
  db: pg.Pool;
  logger: Logger;
  /** Rows Kafka rejected, and rows behind them: recorded like the lease mode does. */
  recordRejected(events: ClaimedEvent[], outcome: BatchOutcome): Promise<void>;
  /** Aggregates whose stream rows are left to the polling sweep (shared with the relay). */
  held: Set<string>;
  onPublished(n: number, batchMs: number): void;
  onPause(err: unknown): void;
}

interface Entry {
  /** The commit's end LSN (or the heartbeat's LSN): what the slot may confirm once the entry is done. */
  lsn: string;
  events: ClaimedEvent[];
  commitMs: number;
}

const noRenewal: RenewLease = async (events) => ({ send: events, held: [] });
const SEND_BACKOFF = { baseMs: 500, maxMs: 10_000 };
const STATUS_INTERVAL_MS = 5_000;

export class CdcStream {
  /** The slot's confirmed position as this session last confirmed it. */
  confirmed: string;
  private readonly queue: Entry[] = [];
  private queuedRows = 0;
  private tx?: Entry;
  private readonly unconfirmed: Entry[] = [];
  private wakeSender?: () => void;
  private wakeReceiver?: () => void;
  private marks: { ids: number[]; lsn?: string } = { ids: [] };
  private marking = Promise.resolve();
  private markQueued = false;
  private stopping = false;
  private readonly service: LogicalReplicationService;
  private sender?: Promise<void>;
  private failure?: unknown;
  private lastDataAt = Date.now();
  private statusTimer?: NodeJS.Timeout;
  private readonly abort = new AbortController();

  constructor(
    private readonly deps: StreamDeps,
    startLsn: string,
  ) {
    this.confirmed = startLsn;
    this.service = new LogicalReplicationService(
      { connectionString: deps.connectionString },
      // Never acknowledge what was only received: the position moves in confirm(), after the mark.
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.service.on('data', (lsn: string, message: Pgoutput.Message) => this.receive(lsn, message));
    this.service.on('heartbeat', (_lsn: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) void this.service.acknowledge(this.confirmed);
    });
    this.service.on('error', (err: unknown) => this.fail(err));
  }

  /** Seconds since the commit of the oldest transaction received and not yet confirmed (0: none). */
  lagSeconds(now = Date.now()): number {
    const oldest = this.unconfirmed[0] ?? this.queue[0];
    return oldest ? Math.max(0, (now - oldest.commitMs) / 1000) : 0;
  }

  /** Nothing received, being sent or being marked, and no data for `quietMs`: the stream has caught up. */
  idle(quietMs: number): boolean {
    return (
      this.queue.length === 0 &&
      this.unconfirmed.length === 0 &&
      this.tx === undefined &&
      Date.now() - this.lastDataAt >= quietMs
    );
  }

  /**
   * Streams until stop() or an error: resolves when stopped, rejects with the stream's error (the
   * caller tells a lost slot from an outage by its SQLSTATE). `between` runs when the sender is idle
   * (the relay's sweep); the sender never sends while it runs.
   */
  async run(between: () => Promise<void>): Promise<void> {
    const plugin = new RawTextPgoutputPlugin({
      protoVersion: 1,
      publicationNames: [this.deps.publication],
      messages: true,
    });
    this.sender = this.sendLoop(between).catch((err: unknown) => this.fail(err));
    this.statusTimer = setInterval(() => void this.service.acknowledge(this.confirmed), STATUS_INTERVAL_MS);
    this.statusTimer.unref();
    try {
      // Resolves when the stream ends, rejects when START_REPLICATION or the stream fails (fail()).
      const subscribed = this.service.subscribe(plugin, this.deps.slot, this.confirmed).then(
        () => {
          if (!this.stopping) this.fail(new Error('the replication stream ended'));
        },
        (err: unknown) => this.fail(err),
      );
      const stopped = new Promise<void>((resolve) =>
        this.abort.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      await Promise.race([subscribed, stopped]);
    } finally {
      await this.close();
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /** Ends the session: the batch in flight is finished and marked, the rest is streamed again next time. */
  stop(): void {
    this.stopping = true;
    this.wakeSender?.();
    this.wakeReceiver?.();
    this.abort.abort();
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.stop();
  }

  private async close(): Promise<void> {
    this.stopping = true;
    clearInterval(this.statusTimer);
    this.wakeSender?.();
    this.wakeReceiver?.();
    await this.sender;
    await this.marking;
    await this.service.destroy().catch(() => undefined);
  }

  private async receive(lsn: string, message: Pgoutput.Message): Promise<void> {
    if (this.stopping) return;
    this.lastDataAt = Date.now();
    switch (message.tag) {
      case 'begin':
        this.tx = { lsn, events: [], commitMs: commitTimeMs(message.commitTime) };
        return;
      case 'insert': {
        const row = outboxRowOf(message);
        if (row && this.tx) this.tx.events.push(row);
        return;
      }
      case 'commit': {
        const tx = this.tx ?? { lsn, events: [], commitMs: Date.now() };
        this.tx = undefined;
        this.enqueue({ ...tx, lsn: message.commitEndLsn ?? lsn });
        break;
      }
      case 'message':
        if (message.transactional || message.prefix !== HEARTBEAT_PREFIX) return;
        this.enqueue({ lsn: message.messageLsn ?? lsn, events: [], commitMs: Date.now() });
        break;
      default:
        return;
    }
    // Flow control: while a few batches wait to be sent, stop reading (PostgreSQL keeps the rest).
    while (this.queuedRows >= 4 * this.deps.batchSize && !this.stopping)
      await new Promise<void>((resolve) => (this.wakeReceiver = resolve));
  }

  private enqueue(entry: Entry): void {
    this.queue.push(entry);
    this.queuedRows += entry.events.length;
    this.wakeSender?.();
  }

  private async sendLoop(between: () => Promise<void>): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      if (this.queue.length === 0) {
        await between();
        if (this.queue.length === 0 && !this.stopping)
          await new Promise<void>((resolve) => {
            this.wakeSender = resolve;
            setTimeout(resolve, 250).unref();
          });
        continue;
      }
      const entries = this.take();
      const events = entries.flatMap((e) => e.events).filter((e) => !this.deps.held.has(aggregateKey(e)));
      // A transaction larger than a batch goes out in batch-size sends; the slot confirms it at its end.
      for (let i = 0; i < events.length && !this.stopping;) {
        const slice = events.slice(i, i + this.deps.batchSize);
        const started = Date.now();
        const outcome = await this.deps.publisher.publish(slice, noRenewal);
        if (outcome.unavailable !== undefined) {
          // Kafka is down: the same rows again after a pause (any it acknowledged are sent again: at
          // least once). Nothing moves the slot meanwhile.
          this.deps.onPause(outcome.unavailable);
          await sleep(backoffDelay(++failures, SEND_BACKOFF), this.abort.signal).catch(() => undefined);
          continue;
        }
        failures = 0;
        i += slice.length;
        if (outcome.rejected.length > 0 || outcome.held.length > 0) {
          const byId = new Map(slice.map((e) => [e.id, e]));
          for (const id of [...outcome.rejected.map((r) => r.id), ...outcome.held]) {
            const event = byId.get(id);
            if (event) this.deps.held.add(aggregateKey(event));
          }
          await this.deps.recordRejected(slice, outcome);
        }
        this.deps.onPublished(outcome.published.length, Date.now() - started);
        this.marks.ids.push(...outcome.published);
        this.mark(undefined);
      }
      // Stopped before the entries were all sent: none of them is confirmed (streamed again next time).
      if (this.stopping) break;
      this.unconfirmed.push(...entries);
      this.wakeReceiver?.();
      this.mark(entries[entries.length - 1]!.lsn);
      // Off the hot path, but bounded: no more than a few batches acknowledged and not yet marked.
      if (this.marks.ids.length >= 4 * this.deps.batchSize) await this.marking;
    }
  }

  /** Whole transactions from the head of the queue, up to a batch of rows (at least one entry). */
  private take(): Entry[] {
    const taken: Entry[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (taken.length > 0 && rows + next.events.length > this.deps.batchSize) break;
      taken.push(this.queue.shift()!);
      rows += next.events.length;
    }
    this.queuedRows -= rows;
    return taken;
  }

  /**
   * Queues acknowledged rows (and, once a group of entries is all sent, the LSN that confirms them) for
   * the marker: one mark at a time, each taking everything queued since the last one.
   */
  private mark(lsn: string | undefined): void {
    if (lsn !== undefined) this.marks.lsn = lsn;
    if (this.markQueued) return;
    this.markQueued = true;
    this.marking = this.marking.then(async () => {
      this.markQueued = false;
      let failures = 0;
      while (this.marks.ids.length > 0 || this.marks.lsn !== undefined) {
        const { ids, lsn: upTo } = this.marks;
        this.marks = { ids: [] };
        try {
          if (ids.length > 0) await markPublishedInBulk(this.deps.db, ids);
        } catch (err) {
          // PostgreSQL unavailable: keep the rows to mark and do not confirm; if this never succeeds,
          // the next session streams them again.
          this.marks = { ids: [...ids, ...this.marks.ids], lsn: this.marks.lsn ?? upTo };
          this.deps.logger.warn({ err }, 'could not mark published rows: retrying');
          if (this.stopping) return;
          await sleep(backoffDelay(++failures, SEND_BACKOFF));
          continue;
        }
        if (upTo !== undefined) this.confirm(upTo);
      }
    });
  }

  private confirm(lsn: string): void {
    this.confirmed = laterLsn(this.confirmed, lsn);
    const at = lsnToBigInt(this.confirmed);
    while (this.unconfirmed.length > 0 && lsnToBigInt(this.unconfirmed[0]!.lsn) <= at)
      this.unconfirmed.shift();
    void this.service.acknowledge(this.confirmed);
  }
}
