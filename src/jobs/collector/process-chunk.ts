import type { KafkaMessage } from 'kafkajs';
import { decodeEvent, PoisonMessageError, type DomainEvent } from '../../lib/events/index.js';
import { backoffDelay } from '../../lib/backoff.js';
import { sleep } from '../../lib/sleep.js';
import { errorMessage } from '../../lib/errors.js';
import { unavailableService } from '../../lib/unavailable.js';
import type { LoggedEvent } from './sql.js';
import type { DeadLetter } from './dead-letters.js';

export interface ChunkOutcome {
  /** False when stopped (signal) before every message was processed or dead-lettered. */
  complete: boolean;
  letters: DeadLetter[];
}

export interface ChunkRunner {
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  signal: AbortSignal;
  heartbeat: () => Promise<void>;
  /** DB transaction + Redis effects for these events; throws when any of them fails. */
  handle: (events: LoggedEvent[]) => Promise<void>;
  onRetry?: (err: unknown, attempt: number, size: number) => void;
}

/**
 * One chunk of one partition: decode (invalid messages are dead letters at once, never retried), then
 * apply the events together, retried with backoff; if they keep failing, narrow down by applying
 * them one by one so only the events that fail on their own become dead letters.
 * An infrastructure error (database or Redis unreachable) is rethrown, never dead-lettered: it says
 * nothing about the event, and the consumer restarts from the last committed offset.
 */
export async function processChunk(
  runner: ChunkRunner,
  at: { topic: string; partition: number },
  messages: KafkaMessage[],
): Promise<ChunkOutcome> {
  const letters: DeadLetter[] = [];
  const events: LoggedEvent[] = [];
  for (const message of messages) {
    let event: DomainEvent;
    try {
      event = decodeEvent(message.value);
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      letters.push({ message, error: err.message, kind: 'poison', attempts: 1 });
      continue;
    }
    events.push({ event, topic: at.topic, partition: at.partition, offset: message.offset, message });
  }
  if (events.length === 0) return { complete: true, letters };

  const whole = await withRetries(runner, events);
  if (whole === 'aborted') return { complete: false, letters };
  if (whole !== 'ok') {
    for (const one of events) {
      const result = await withRetries(runner, [one]);
      if (result === 'aborted') return { complete: false, letters };
      if (result !== 'ok') {
        letters.push({
          message: one.message,
          error: result.error,
          kind: 'failed',
          attempts: result.attempts,
        });
      }
    }
  }
  return { complete: true, letters };
}

type Attempted = 'ok' | 'aborted' | { error: string; attempts: number };

async function withRetries(runner: ChunkRunner, events: LoggedEvent[]): Promise<Attempted> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runner.handle(events);
      return 'ok';
    } catch (err) {
      if (unavailableService(err)) throw err; // an outage, not the events' fault: the consumer pauses
      runner.onRetry?.(err, attempt, events.length);
      if (attempt >= runner.maxAttempts) return { error: errorMessage(err), attempts: attempt };
      if (!(await sleep(backoffDelay(attempt, runner.backoff), runner.signal))) return 'aborted';
      await runner.heartbeat();
    }
  }
}
