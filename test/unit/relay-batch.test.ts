import { describe, expect, it } from 'vitest';
import { sendOneByOne, topicMessages } from '../../src/jobs/relay/batch.js';
import { classifySendError } from '../../src/jobs/relay/send-errors.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from '../../src/lib/kafka/kafkajs.js';
import { UsageError } from '../../src/lib/errors.js';

const row = (id: number, aggregateId: string, version: number, topic = 't'): ClaimedEvent => ({
  id,
  eventId: `e${id}`,
  aggregateType: 'product',
  aggregateId,
  version,
  eventType: 'ProductViewed',
  topic,
  partitionKey: aggregateId,
  value: `{"id":${id}}`,
  attemptCount: 0,
});
const protocol = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ type, code: 1, retriable, message: type } as never);

describe('topicMessages', () => {
  it('groups by topic and keeps id order inside each topic, with key and event headers', () => {
    const groups = topicMessages([row(3, '1', 2, 'a'), row(1, '1', 1, 'a'), row(2, '9', 1, 'b')]);
    expect(groups.map((g) => g.topic)).toEqual(['a', 'b']);
    expect(groups[0]!.messages.map((m) => m.value)).toEqual(['{"id":1}', '{"id":3}']);
    expect(groups[0]!.messages[0]).toMatchObject({
      key: '1',
      headers: { 'event-id': 'e1', 'aggregate-version': '1' },
    });
  });
});

describe('sendOneByOne', () => {
  const classify = (err: unknown) => classifySendError(err);
  const describeErr = (err: unknown) => String((err as Error).message);

  it('holds the later rows of a rejected aggregate; other aggregates are published', async () => {
    const sent: number[] = [];
    const outcome = await sendOneByOne(
      [row(4, 'x', 2), row(1, 'x', 1), row(2, 'y', 1), row(3, 'y', 2), row(5, 'x', 3)],
      async (e) => {
        if (e.id === 1) throw protocol('MESSAGE_TOO_LARGE', false);
        sent.push(e.id);
      },
      classify,
      describeErr,
    );
    expect(sent).toEqual([2, 3]);
    expect(outcome).toMatchObject({ published: [2, 3], rejected: [{ id: 1 }], held: [4, 5] });
    expect(outcome.unavailable).toBeUndefined();
  });

  it('stops at an outage and holds the rest without rejecting anything', async () => {
    const outcome = await sendOneByOne(
      [row(1, 'x', 1), row(2, 'y', 1), row(3, 'z', 1)],
      async (e) => {
        if (e.id === 2) throw new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');
      },
      classify,
      describeErr,
    );
    expect(outcome).toMatchObject({ published: [1], rejected: [], held: [2, 3] });
    expect(outcome.unavailable).toBeDefined();
  });
});

describe('classifySendError', () => {
  it('treats broker and cluster conditions as an outage, message faults as rejections', () => {
    expect(classifySendError(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toBe(
      'unavailable',
    );
    expect(classifySendError(new KafkaJSRequestTimeoutError('Request timed out'))).toBe('unavailable');
    const leader = protocol('LEADER_NOT_AVAILABLE', true);
    expect(
      classifySendError(new KafkaJSNumberOfRetriesExceeded(leader, { retryCount: 5, retryTime: 1 })),
    ).toBe('unavailable');
    expect(classifySendError(protocol('MESSAGE_TOO_LARGE', false))).toBe('rejected');
    expect(classifySendError(protocol('TOPIC_AUTHORIZATION_FAILED', false))).toBe('rejected');
    expect(classifySendError(new Error('boom'))).toBe('rejected');
  });
});

describe('parseRelayOptions', () => {
  it('has defaults and rejects bad values as usage errors', () => {
    expect(parseRelayOptions({})).toMatchObject({
      batchSize: 500,
      leaseMs: 30_000,
      pollIntervalMs: 1_000,
      maxAttempts: 10,
    });
    expect(() => parseRelayOptions({ batchSize: 0 })).toThrow(UsageError);
    expect(() => parseRelayOptions({ lease: '10' })).toThrow(/--lease/);
    expect(() => parseRelayOptions({ lease: '500ms' })).toThrow(/at least 1s/);
    expect(() => parseRelayOptions({ maxAttempts: 1.5 })).toThrow(UsageError);
    expect(parseRelayOptions({}).relayId).not.toBe(parseRelayOptions({}).relayId);
  });
});
