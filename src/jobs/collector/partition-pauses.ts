import type { EachBatchPayload } from 'kafkajs';
import { backoffDelay } from '../../lib/backoff.js';
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { classifyError } from '../../lib/error-kind.js';
import { PartitionHeld } from './process-chunk.js';

/** How long a partition whose step cannot make progress waits before it is fetched again. */
export const PAUSE_BACKOFF = { baseMs: 1_000, maxMs: 15_000, jitter: 0.5 } as const;

/**
 * A step that cannot make progress, whatever the events: a dependency `unavailable` (PostgreSQL,
 * Redis, or the webhook receiver down for longer than the sender waits: ReceiverDownError), or an
 * event of a schema version this build does not know (PartitionHeld: until the upgrade takes the
 * partition). Kafka's own failures are not: kafkajs handles them (and a lost membership must reach it
 * to rejoin).
 */
export function pausesPartition(err: unknown): boolean {
  if (err instanceof PartitionHeld) return true;
  const { kind, service } = classifyError(err);
  return kind === 'unavailable' && service !== 'Kafka';
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Partitions paused because a step could not make progress. Pausing (kafkajs pause(): the partition
 * is left out of fetches, the member stays in its group and keeps heartbeating from its fetch loop)
 * instead of throwing into kafkajs: a throw restarts the consumer and rejoins the group, and holding the
 * batch would hold the fetch loop and every rebalance. The partition resumes after a backoff that grows
 * while it keeps failing; kafkajs then fetches from the last resolved offset, so the events not done
 * are fetched again (consumerGroup.fetch asks offsetManager.nextOffset). A partition counts as
 * failing from its pause until one of its batches succeeds (or it is no longer assigned here).
 */
export class PartitionPauses {
  private readonly failing = new Map<
    string,
    { failures: number; timer?: NodeJS.Timeout; resume?: () => void }
  >();

  constructor(
    private readonly logger: Logger,
    private readonly onChange: () => void,
  ) {}

  /** Partitions that failed and have not succeeded since. */
  get size(): number {
    return this.failing.size;
  }

  pause(payload: Pick<EachBatchPayload, 'batch' | 'pause'>, err: unknown): void {
    const { topic, partition } = payload.batch;
    const k = key(topic, partition);
    const entry = this.failing.get(k) ?? { failures: 0 };
    entry.failures += 1;
    clearTimeout(entry.timer);
    entry.resume = payload.pause();
    const delayMs = backoffDelay(entry.failures, PAUSE_BACKOFF);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.resume?.();
    }, delayMs);
    this.failing.set(k, entry);
    this.logger.warn(
      { topic, partition, failures: entry.failures, delayMs, err: errorMessage(err) },
      'partition paused: a step cannot make progress',
    );
    this.onChange();
  }

  succeeded(topic: string, partition: number): void {
    if (this.failing.delete(key(topic, partition))) this.onChange();
  }

  /** After a (re)join: forget partitions assigned elsewhere now (resumed, should they come back). */
  retain(assignment: Record<string, number[]>): void {
    const assigned = new Set(
      Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => key(topic, p))),
    );
    for (const [k, entry] of this.failing)
      if (!assigned.has(k)) {
        clearTimeout(entry.timer);
        entry.resume?.();
        this.failing.delete(k);
      }
    this.onChange();
  }

  clear(): void {
    for (const entry of this.failing.values()) clearTimeout(entry.timer);
    this.failing.clear();
  }
}
