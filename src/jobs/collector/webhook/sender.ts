import type { Logger } from '../../../lib/log.js';
import { backoffDelay } from '../../../lib/backoff.js';
import { sleep } from '../../../lib/sleep.js';
import { StopDeadline, trackLoop, unlessForced, type Loop, type StopOptions } from '../../../lib/loop.js';
import type { DomainEvent } from '../../../lib/events/index.js';
import { CE_STRUCTURED_CONTENT_TYPE, structuredCloudEvent } from '../../../lib/cloud-event.js';
import type { WebhookOptions } from './options.js';
import type { WebhookMetrics } from './metrics.js';
import { WEBHOOK_HEADERS, webhookSigner } from './signature.js';
import { attemptKind, ReceiverDownError, retryAfterMs, unreachableReason } from './classify.js';
import { Semaphore } from './semaphore.js';

export type DeliveryOutcome =
  | { kind: 'delivered'; status: number; attempts: number }
  /** The event's type is not selected: nothing was sent. */
  | { kind: 'skipped' }
  /** A 4xx other than 408/429 (or a 3xx): the receiver refuses the event; the caller dead-letters it. */
  | { kind: 'rejected'; status: number; attempts: number; error: string };

type Attempt =
  | { kind: 'delivered'; status: number }
  | { kind: 'rejected'; status: number; error: string }
  | { kind: 'retry'; reason: string; waitMs?: number };

/**
 * The sender is stopping: a delivery it refused or gave up (a forced stop) is left unmarked, like one
 * to a receiver that is down (an unavailable webhook receiver): the collector pauses the partition and
 * the events are sent again (at least once), never dead-lettered.
 */
export class SenderStoppedError extends ReceiverDownError {
  constructor() {
    super('the webhook sender is stopping', 0);
    this.message = 'webhook sender stopped: delivery given up unmarked (it is sent again)';
    this.name = 'SenderStoppedError';
  }
}

/** onRetry is called at least this often while an event waits for its next attempt. */
const RETRY_CALLBACK_EVERY_MS = 1_000;
/** How much of a refusing response's body goes into the rejection's error. */
const ERROR_BODY_CHARS = 300;
const ERROR_BODY_BYTES = 4_096;
const USER_AGENT = 'commerce-webhook/2';

/**
 * Sends events to one webhook receiver: at least once, in order per aggregate, never dropping one
 * while the receiver is down (it retries for as long as it takes; the caller is paused meanwhile).
 * A Loop (lib/loop.ts): stop() refuses new deliveries and lets those in flight finish until its
 * `timeoutMs`, then aborts them (SenderStoppedError); nothing given up is marked.
 */
export class WebhookSender implements Loop {
  /** Resolves once stopped: no delivery in flight, or those left were given up. */
  readonly finished: Promise<void>;
  private ended!: () => void;
  private readonly slots: Semaphore;
  private readonly deadline = new StopDeadline();
  private stopping?: Promise<void>;
  private untrack = () => {};
  private inFlight = 0;
  private idle?: () => void;
  private readonly sign: ReturnType<typeof webhookSigner>;

  constructor(
    private readonly options: WebhookOptions,
    private readonly logger: Logger,
    private readonly metrics: WebhookMetrics,
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
      throw new RangeError(`webhook concurrency must be a positive integer, got ${options.concurrency}`);
    // Shared by every deliver() call: the bound holds however many partitions deliver at once.
    this.slots = new Semaphore(options.concurrency);
    this.sign = webhookSigner(
      options.previousSecret ? [options.secret, options.previousSecret] : [options.secret],
    );
    this.finished = new Promise((resolve) => (this.ended = resolve));
  }

  /** Registers the sender with the process's loops, so a forced shutdown gives its deliveries up. */
  start(): void {
    if (!this.stopping) this.untrack = trackLoop(this);
  }

  /** Refuses new deliveries, waits for those in flight until `timeoutMs`, then aborts them. */
  stop(options: StopOptions = {}): Promise<void> {
    this.deadline.arm(options.timeoutMs);
    return (this.stopping ??= (async () => {
      if (this.inFlight > 0) await unlessForced(new Promise<void>((r) => (this.idle = r)), this.deadline);
      this.deadline.clear();
      this.untrack();
      this.ended();
    })());
  }

  /**
   * Delivers events in order per aggregate (aggregates in parallel, at most `concurrency` requests at
   * once). Retries 5xx/408/429/timeouts/connection errors with exponential backoff + jitter, for as long
   * as it takes (or until an event has failed for `pauseAfterMs`: ReceiverDownError); calls onRetry (to
   * keep the Kafka member alive) after each settled event and while waiting between attempts, at least
   * once a second. Resolves with one outcome per event id (in `outcomes`, which also holds the events
   * settled so far when it rejects); rejects with the abort reason if `signal` aborts, or with onRetry's
   * error if it throws.
   */
  async deliver(
    events: DomainEvent[],
    signal: AbortSignal,
    onRetry?: () => Promise<void>,
    outcomes = new Map<string, DeliveryOutcome>(),
  ): Promise<Map<string, DeliveryOutcome>> {
    signal.throwIfAborted();
    if (this.stopping) throw new SenderStoppedError();
    this.inFlight++;
    try {
      return await this.deliverAll(
        events,
        AbortSignal.any([signal, this.deadline.signal]),
        onRetry,
        outcomes,
      );
    } catch (err) {
      // Given up by a forced stop (not by the caller's own signal): not the events' fault.
      if (this.deadline.forced && !signal.aborted) throw new SenderStoppedError();
      throw err;
    } finally {
      if (--this.inFlight === 0) this.idle?.();
    }
  }

  private async deliverAll(
    events: DomainEvent[],
    signal: AbortSignal,
    onRetry: (() => Promise<void>) | undefined,
    outcomes: Map<string, DeliveryOutcome>,
  ): Promise<Map<string, DeliveryOutcome>> {
    // A failing onRetry stops every aggregate of this call, as an abort of the caller does.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const retried = coalesce(onRetry, stop);
    try {
      // The first failure stops every other aggregate; deliver settles only once none is running.
      let failure: { error: unknown } | undefined;
      await Promise.all(
        [...byAggregate(events).values()].map(async (sequence) => {
          try {
            for (const event of sequence) {
              outcomes.set(event.eventId, await this.deliverOne(event, stop.signal, retried));
              await retried(); // progress: a chunk of slow deliveries keeps its member alive
            }
          } catch (error) {
            failure ??= { error };
            stop.abort(error);
          }
        }),
      );
      if (failure) throw failure.error;
      return outcomes;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async deliverOne(
    event: DomainEvent,
    signal: AbortSignal,
    onRetry: () => Promise<void>,
  ): Promise<DeliveryOutcome> {
    const { eventTypes, backoff } = this.options;
    if (eventTypes && !eventTypes.has(event.eventType)) return { kind: 'skipped' };
    // The body is the event as a structured-mode CloudEvent (its data: the envelope), the same on
    // every attempt; only the timestamp and so the signature change.
    const body = structuredCloudEvent(event);
    let failingSince: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(event, body, signal);
      if (result.kind === 'delivered') {
        this.metrics.deliveries.inc({ outcome: 'delivered' });
        this.logger.debug({ eventId: event.eventId, status: result.status, attempt }, 'webhook delivered');
        return { kind: 'delivered', status: result.status, attempts: attempt };
      }
      if (result.kind === 'rejected') {
        this.metrics.deliveries.inc({ outcome: 'rejected' });
        this.logger.warn(
          { eventId: event.eventId, eventType: event.eventType, status: result.status, error: result.error },
          'webhook rejected the event',
        );
        return { kind: 'rejected', status: result.status, attempts: attempt, error: result.error };
      }
      this.metrics.deliveries.inc({ outcome: 'retried' });
      const delayMs = Math.max(backoffDelay(attempt, backoff), Math.min(result.waitMs ?? 0, backoff.maxMs));
      // Every attempt while the receiver stays down would flood the log: 1st, 2nd, 4th, 8th... at warn.
      const level = (attempt & (attempt - 1)) === 0 ? 'warn' : 'debug';
      this.logger[level](
        { eventId: event.eventId, aggregateId: event.aggregateId, attempt, reason: result.reason, delayMs },
        'webhook delivery failed; retrying',
      );
      failingSince ??= Date.now();
      const failingMs = Date.now() - failingSince + delayMs;
      if (this.options.pauseAfterMs !== undefined && failingMs > this.options.pauseAfterMs)
        throw new ReceiverDownError(result.reason, failingMs);
      await this.wait(delayMs, signal, onRetry);
    }
  }

  /** One request, holding a concurrency slot; throws only the stop reason (or a bug). */
  private async attempt(event: DomainEvent, body: string, signal: AbortSignal): Promise<Attempt> {
    const release = await this.slots.acquire(signal);
    const request = new AbortController();
    const timer = setTimeout(
      () => request.abort(new DOMException('webhook request timed out', 'TimeoutError')),
      this.options.timeoutMs,
    );
    const onStop = () => request.abort(signal.reason);
    signal.addEventListener('abort', onStop, { once: true });
    const started = performance.now();
    try {
      // The stop may have come between the slot's grant and the listener above.
      signal.throwIfAborted();
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(this.options.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: request.signal,
        headers: {
          'content-type': CE_STRUCTURED_CONTENT_TYPE,
          'user-agent': USER_AGENT,
          [WEBHOOK_HEADERS.id]: event.eventId,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: this.sign(event.eventId, timestamp, body),
        },
      });
      const status = response.status;
      const verdict = attemptKind(status);
      if (verdict === 'ok') {
        await response.body?.cancel().catch(() => undefined);
        return { kind: 'delivered', status };
      }
      const text = await excerpt(response);
      if (verdict === 'rejected') return { kind: 'rejected', status, error: `HTTP ${status}${text}` };
      return {
        kind: 'retry',
        reason: `HTTP ${status}${text}`,
        waitMs: retryAfterMs(response.headers.get('retry-after')),
      };
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const reason = unreachableReason(err);
      if (reason === undefined) throw err;
      return { kind: 'retry', reason };
    } finally {
      this.metrics.duration.observe((performance.now() - started) / 1000);
      clearTimeout(timer);
      signal.removeEventListener('abort', onStop);
      release();
    }
  }

  /** Sleeps `ms`, calling onRetry first and then at least once a second; throws the stop reason. */
  private async wait(ms: number, signal: AbortSignal, onRetry: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      await onRetry();
      signal.throwIfAborted();
      const left = until - Date.now();
      if (left <= 0) return;
      if (!(await sleep(Math.min(left, RETRY_CALLBACK_EVERY_MS), signal))) throw signal.reason;
    }
  }
}

/** Events grouped by aggregate, each group in the order given. */
function byAggregate(events: DomainEvent[]): Map<string, DomainEvent[]> {
  const groups = new Map<string, DomainEvent[]>();
  for (const event of events) {
    const key = `${event.aggregateType}:${event.aggregateId}`;
    const group = groups.get(key);
    if (group) group.push(event);
    else groups.set(key, [event]);
  }
  return groups;
}

/**
 * onRetry shared by every waiting aggregate: one call at a time (a heartbeat, not one per aggregate);
 * if it throws, `stop` aborts with its error so every aggregate ends.
 */
function coalesce(onRetry: (() => Promise<void>) | undefined, stop: AbortController): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    if (!onRetry) return Promise.resolve();
    running ??= onRetry()
      .catch((err: unknown) => {
        stop.abort(err);
        throw err;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}

/** The start of a refusing response's body for the error message (`: <text>`), never failing. */
async function excerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    // Only the first bytes: a receiver's error page can be large.
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short: the status says enough.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_CHARS);
  return text ? `: ${text}` : '';
}
