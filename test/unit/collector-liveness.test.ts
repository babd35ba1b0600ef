import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from '../../src/lib/kafka/kafkajs.js';
import { lostMembership } from '../../src/lib/kafka/membership.js';
import { BatchGuard } from '../../src/jobs/collector/batch-guard.js';
import { PartitionPauses, pausesPartition } from '../../src/jobs/collector/partition-pauses.js';
import { ReceiverDownError } from '../../src/jobs/collector/webhook/classify.js';
import { UnavailableError } from '../../src/lib/errors.js';

const logger = pino({ level: 'silent' });
// kafkajs builds these from its protocol error table (createErrorFromCode); its typings only take a message.
const protocol = (type: string) =>
  new KafkaJSProtocolError({ type, code: 25, retriable: false, message: `${type} message` } as never);

describe('lostMembership', () => {
  it('finds the coordinator answer under kafkajs retrier wrappers, and nothing else', () => {
    const unknown = protocol('UNKNOWN_MEMBER_ID');
    // What consumer.commitOffsets throws: its retrier wraps a non-retriable protocol error.
    const wrapped = new (KafkaJSNonRetriableError as unknown as new (e: Error, o: object) => Error)(unknown, {
      cause: unknown,
    });
    expect(lostMembership(wrapped)).toBe(unknown);
    const generation = protocol('ILLEGAL_GENERATION');
    expect(
      lostMembership(new KafkaJSNumberOfRetriesExceeded(generation, { retryCount: 5, retryTime: 1 })),
    ).toBe(generation);
    expect(lostMembership(protocol('REBALANCE_IN_PROGRESS'))?.type).toBe('REBALANCE_IN_PROGRESS');
    expect(lostMembership(protocol('NOT_LEADER_FOR_PARTITION'))).toBeUndefined();
    expect(lostMembership(new KafkaJSConnectionError('Connection timeout'))).toBeUndefined();
    expect(lostMembership(new Error('x'))).toBeUndefined();
  });
});

describe('BatchGuard', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('heartbeats every interval while steps make progress, none once the batch stalls', async () => {
    const heartbeat = vi.fn(async () => undefined);
    const guard = new BatchGuard(
      { heartbeat },
      { intervalMs: 1_000, stallMs: 5_000, signal: new AbortController().signal, logger },
    );
    await vi.advanceTimersByTimeAsync(4_000);
    expect(heartbeat).toHaveBeenCalledTimes(4);
    guard.progress();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(heartbeat).toHaveBeenCalledTimes(9);
    await vi.advanceTimersByTimeAsync(10_000); // no progress for longer than stallMs
    expect(heartbeat).toHaveBeenCalledTimes(9);
    guard.close();
  });

  it('a heartbeat saying the member lost its group aborts the batch and keeps the error to rethrow', async () => {
    const lost = protocol('REBALANCE_IN_PROGRESS');
    let fail = false;
    const heartbeat = vi.fn(async () => {
      if (fail) throw lost;
    });
    const guard = new BatchGuard(
      { heartbeat },
      { intervalMs: 1_000, stallMs: 60_000, signal: new AbortController().signal, logger },
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(guard.signal.aborted).toBe(false);
    fail = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(guard.signal.aborted).toBe(true);
    expect(guard.lost).toBe(lost);
    await expect(guard.heartbeat()).rejects.toBe(lost);
    guard.close();
  });

  it('other heartbeat failures (a coordinator moving) neither abort nor throw', async () => {
    const heartbeat = vi.fn(async () => {
      throw new KafkaJSConnectionError('Connection timeout');
    });
    const guard = new BatchGuard(
      { heartbeat },
      { intervalMs: 1_000, stallMs: 60_000, signal: new AbortController().signal, logger },
    );
    await vi.advanceTimersByTimeAsync(3_000);
    await guard.heartbeat();
    expect(guard.signal.aborted).toBe(false);
    guard.close();
  });
});

describe('PartitionPauses', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('pauses on a step that cannot progress, resumes after a backoff, failing until a batch succeeds', async () => {
    let changes = 0;
    const pauses = new PartitionPauses(logger, () => void (changes += 1));
    const resume = vi.fn();
    const payload = { batch: { topic: 't', partition: 1 }, pause: vi.fn(() => resume) };
    pauses.pause(payload as never, new UnavailableError('Redis', 'down'));
    expect(payload.pause).toHaveBeenCalledTimes(1);
    expect(pauses.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000); // first backoff: 0.5-1s
    expect(resume).toHaveBeenCalledTimes(1);
    expect(pauses.size).toBe(1); // still failing until a batch of it goes through
    pauses.succeeded('t', 1);
    expect(pauses.size).toBe(0);
    expect(changes).toBe(2);
  });

  it('forgets (and resumes) partitions no longer assigned after a rejoin', () => {
    const pauses = new PartitionPauses(logger, () => undefined);
    const resume = vi.fn();
    pauses.pause({ batch: { topic: 't', partition: 2 }, pause: () => resume } as never, new Error('x'));
    pauses.retain({ t: [0, 1] });
    expect(resume).toHaveBeenCalledTimes(1);
    expect(pauses.size).toBe(0);
  });

  it('pauses for PostgreSQL, Redis and a receiver down for long; never for Kafka or the events', () => {
    expect(pausesPartition(new UnavailableError('PostgreSQL', 'down'))).toBe(true);
    expect(pausesPartition(new UnavailableError('Redis', 'down'))).toBe(true);
    expect(pausesPartition(new ReceiverDownError('HTTP 503', 30_000))).toBe(true);
    expect(pausesPartition(new UnavailableError('Kafka', 'down'))).toBe(false);
    expect(pausesPartition(protocol('UNKNOWN_MEMBER_ID'))).toBe(false);
    expect(pausesPartition(new Error('handler exploded'))).toBe(false);
  });
});
