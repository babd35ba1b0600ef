import type { EachBatchPayload } from 'kafkajs';
import { errorMessage } from '../../lib/errors.js';
import { lostMembership, type MembershipError } from '../../lib/kafka/membership.js';
import type { Logger } from '../../lib/log.js';

export interface BatchGuardOptions {
  /** The consumer's heartbeat interval: how often the ticker heartbeats. */
  intervalMs: number;
  /** No step finished for this long: the ticker stops heartbeating, so the session lapses. */
  stallMs: number;
  /** The consumer's stop or replacement. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Keeps one eachBatch call's member in its group, and ends the call when it is not any more.
 * kafkajs heartbeats only between batches and when eachBatch calls heartbeat(), so a batch whose steps
 * take longer than the session (a chunk of slow but successful webhook deliveries, a transaction on a
 * loaded database) would be fenced out. A ticker heartbeats every interval while the batch's steps
 * make progress (each step's end and each webhook delivery call `heartbeat`, which marks progress);
 * a batch silent for `stallMs` gets no more heartbeats, so a hung member lets its partitions go.
 * A heartbeat answered "rebalancing" or "not a member" aborts `signal`: the chunks stop where they
 * are (nothing is committed past what is done) and eachBatch rethrows `lost`, so kafkajs rejoins.
 * Other heartbeat failures (the coordinator moving, a connection lost) are left to the next beat.
 */
export class BatchGuard {
  readonly signal: AbortSignal;
  /** The membership error a heartbeat got, if any: eachBatch rethrows it. */
  lost?: MembershipError;
  private readonly controller = new AbortController();
  private readonly ticker: NodeJS.Timeout;
  private lastProgress = Date.now();
  private stallLogged = false;

  constructor(
    private readonly payload: Pick<EachBatchPayload, 'heartbeat'>,
    private readonly options: BatchGuardOptions,
  ) {
    this.signal = AbortSignal.any([options.signal, this.controller.signal]);
    this.ticker = setInterval(() => this.tick(), options.intervalMs);
  }

  /** A step finished: the batch is not stalled. */
  readonly progress = (): void => {
    this.lastProgress = Date.now();
    this.stallLogged = false;
  };

  /** Progress, and a heartbeat (kafkajs sends at most one per interval); throws a lost membership. */
  readonly heartbeat = async (): Promise<void> => {
    this.progress();
    await this.beat();
  };

  close(): void {
    clearInterval(this.ticker);
  }

  private tick(): void {
    if (this.signal.aborted) return;
    const silentMs = Date.now() - this.lastProgress;
    if (silentMs > this.options.stallMs) {
      if (!this.stallLogged)
        this.options.logger.warn({ silentMs }, 'a batch makes no progress: no more heartbeats for it');
      this.stallLogged = true;
      return;
    }
    this.beat().catch(() => undefined); // a lost membership is in `lost` and `signal` already
  }

  private async beat(): Promise<void> {
    try {
      await this.payload.heartbeat();
    } catch (err) {
      const lost = lostMembership(err);
      if (!lost) {
        this.options.logger.debug({ err: errorMessage(err) }, 'heartbeat failed');
        return;
      }
      if (!this.lost) {
        this.lost = lost;
        this.controller.abort(lost);
      }
      throw lost;
    }
  }
}
