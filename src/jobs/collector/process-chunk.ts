import type { KafkaMessage } from 'kafkajs';
import {
  decodeEvent,
  PoisonMessageError,
  UnknownSchemaVersionError,
  type DomainEvent,
  type EventDecoder,
} from '../../lib/events/index.js';
import { backoffDelay } from '../../lib/backoff.js';
import { sleep } from '../../lib/sleep.js';
import { errorMessage } from '../../lib/errors.js';
import { classifyError } from '../../lib/error-kind.js';
import type { LoggedEvent } from './sql.js';
import type { DeadLetter } from './dead-letters.js';

export interface ChunkOutcome {
  /** False when stopped (signal) before every message was processed or dead-lettered. */
  complete: boolean;
  letters: DeadLetter[];
  /**
   * The first message whose schema version this build does not know, when the chunk has one: the
   * messages before it were processed, it and the rest were not (see PartitionHeld).
   */
  held?: { message: KafkaMessage; error: UnknownSchemaVersionError };
}

/**
 * The partition waits at an event written in a schema version newer than this collector knows (a
 * newer API, mid rolling deploy): nothing from it on is applied nor dead-lettered, the offset stays
 * at it, and the partition pauses like an outage (PartitionPauses) and is fetched again until a
 * collector that knows the version (the upgrade) takes it over. Guessing would mis-apply it;
 * dead-lettering it would let the same order's later events overtake it (webhooks promise order per
 * aggregate) and leave a replay to someone's memory. docs/event-evolution.md.
 */
export class PartitionHeld extends Error {
  constructor(
    readonly at: { topic: string; partition: number; offset: string },
    readonly unknown: UnknownSchemaVersionError,
  ) {
    super(`held at ${at.topic}/${at.partition}@${at.offset}: ${unknown.message}`, { cause: unknown });
    this.name = 'PartitionHeld';
  }
}

/**
 * Thrown into a chunk's order-sensitive step when an earlier chunk of the same partition did not
 * finish (it failed, or the consumer stopped; see ChunkTurns in ordered-steps.ts): the step must not
 * run, or it could deliver a later version of an aggregate before an earlier one still to be delivered.
 * Not the events' fault: never retried nor dead-lettered; the partition is consumed again from its
 * last committed offset, the earlier chunk first.
 */
export class EarlierChunkUnfinished extends Error {
  constructor(cause?: unknown) {
    super('an earlier chunk of this partition did not finish', { cause });
    this.name = 'EarlierChunkUnfinished';
  }
}

/** An event a handler refused for good, e.g. a webhook receiver answering 400. */
export interface Rejection {
  logged: LoggedEvent;
  error: string;
  /** The receiver's HTTP status, carried in the dead letter. */
  status: number;
  attempts: number;
}

export interface ChunkRunner {
  /** How events are read (validation, upcasting: lib/events); default decodeEvent, this build's. */
  decoder?: EventDecoder;
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  signal: AbortSignal;
  heartbeat: () => Promise<void>;
  /**
   * The group's handlers for these events (DB transaction, Redis, webhook); throws when any of them
   * fails. Returns the events a handler refused for good (a webhook receiver's 4xx): dead letters.
   */
  handle: (events: LoggedEvent[]) => Promise<Rejection[] | void>;
  onRetry?: (err: unknown, attempt: number, size: number) => void;
}

/**
 * One chunk of one partition: decode (invalid messages are dead letters at once, never retried; at a
 * version too new for this build, stop: the outcome's `held`), then
 * apply the events together, retried with backoff; if they keep failing, narrow down by applying
 * them one by one so only the events that fail on their own become dead letters.
 * An infrastructure error (database or Redis unreachable, a webhook receiver down for long) is
 * rethrown, never dead-lettered: it says nothing about the event; the partition pauses (PartitionPauses)
 * and its events are fetched again from the last resolved offset.
 */
export async function processChunk(
  runner: ChunkRunner,
  at: { topic: string; partition: number },
  messages: KafkaMessage[],
): Promise<ChunkOutcome> {
  const letters: DeadLetter[] = [];
  const events: LoggedEvent[] = [];
  let held: ChunkOutcome['held'];
  const decode = runner.decoder?.decode ?? decodeEvent;
  for (const message of messages) {
    let event: DomainEvent;
    // Decoded from its text, which the audit row then stores as received (no re-serialising).
    const envelope = message.value?.toString('utf8') ?? '';
    try {
      event = decode(envelope);
    } catch (err) {
      if (err instanceof UnknownSchemaVersionError) {
        held = { message, error: err };
        break;
      }
      if (!(err instanceof PoisonMessageError)) throw err;
      letters.push({ message, error: err.message, kind: 'poison', attempts: 1 });
      continue;
    }
    events.push({
      event,
      envelope,
      topic: at.topic,
      partition: at.partition,
      offset: message.offset,
      message,
    });
  }
  if (events.length === 0) return { complete: true, letters, held };

  const rejected = (list: Rejection[]) => {
    for (const r of list)
      letters.push({
        message: r.logged.message,
        error: r.error,
        kind: 'rejected',
        attempts: r.attempts,
        status: r.status,
      });
  };
  const whole = await withRetries(runner, events);
  if (whole === 'aborted') return { complete: false, letters };
  if (Array.isArray(whole)) rejected(whole);
  else {
    for (const one of events) {
      const result = await withRetries(runner, [one]);
      if (result === 'aborted') return { complete: false, letters };
      if (Array.isArray(result)) rejected(result);
      else {
        letters.push({
          message: one.message,
          error: result.error,
          kind: 'failed',
          attempts: result.attempts,
        });
      }
    }
  }
  return { complete: true, letters, held };
}

/** The rejections when the handlers succeeded, 'aborted', or the last error after maxAttempts. */
type Attempted = Rejection[] | 'aborted' | { error: string; attempts: number };

async function withRetries(runner: ChunkRunner, events: LoggedEvent[]): Promise<Attempted> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await runner.handle(events)) ?? [];
    } catch (err) {
      // An outage (or a receiver down for long) is not the events' fault (the partition pauses); nor is
      // Kafka itself (a heartbeat during a long webhook retry hit a rebalance: the consumer handles it).
      const { kind, service } = classifyError(err);
      if (kind === 'unavailable' || service === 'Kafka') throw err;
      if (runner.signal.aborted) return 'aborted'; // a stop interrupted the handlers: not the event's fault
      if (err instanceof EarlierChunkUnfinished) throw err; // nor the earlier chunk's failure
      runner.onRetry?.(err, attempt, events.length);
      if (attempt >= runner.maxAttempts) return { error: errorMessage(err), attempts: attempt };
      if (!(await sleep(backoffDelay(attempt, runner.backoff), runner.signal))) return 'aborted';
      await runner.heartbeat();
    }
  }
}
