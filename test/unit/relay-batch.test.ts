import { describe, expect, it } from 'vitest';
import { keepRenewed, LeaseRenewalError, sendOneByOne, topicMessages } from '../../src/jobs/relay/batch.js';
import { MIN_LEASE_MS, sendBudget } from '../../src/jobs/relay/send-budget.js';
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
  schemaVersion: 1,
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
        return 'sent';
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
        return 'sent';
      },
      classify,
      describeErr,
    );
    expect(outcome).toMatchObject({ published: [1], rejected: [], held: [2, 3] });
    expect(outcome.unavailable).toBeDefined();
  });
});

describe('lease renewal before a send', () => {
  it('keepRenewed drops lost rows and holds the later rows of their aggregates', () => {
    const batch = [row(3, 'x', 2), row(1, 'x', 1), row(2, 'y', 1), row(4, 'y', 2), row(5, 'x', 3)];
    const { send, held } = keepRenewed(batch, [2, 3, 4, 5]); // row 1 (x v1) was taken over
    expect(send.map((e) => e.id)).toEqual([2, 4]);
    expect(held).toEqual([3, 5]);
    expect(keepRenewed(batch, []).send).toEqual([]);
  });

  it('sendOneByOne treats a lost row like a rejected one for its aggregate, without an attempt', async () => {
    const outcome = await sendOneByOne(
      [row(1, 'x', 1), row(2, 'y', 1), row(3, 'x', 2)],
      async (e) => (e.id === 1 ? 'lost' : 'sent'),
      classifySendError,
      String,
    );
    expect(outcome).toEqual({ published: [2], rejected: [], held: [3] });
  });

  it('sendOneByOne lets a failed renewal through (not an attempt, not an outage)', async () => {
    const cause = new Error('connection terminated');
    const walk = sendOneByOne(
      [row(1, 'x', 1)],
      async () => {
        throw new LeaseRenewalError(cause);
      },
      classifySendError,
      String,
    );
    await expect(walk).rejects.toBe(cause);
  });
});

describe('sendBudget', () => {
  it('bounds the worst-case send to three quarters of the lease, for every lease from the minimum up', () => {
    for (const lease of [MIN_LEASE_MS, 3_000, 10_000, 30_000, 60_000, 300_000, 3_600_000]) {
      const b = sendBudget(lease);
      const attempts = b.retry.retries + 1;
      expect(
        attempts * (b.connectionTimeout + b.requestTimeout) + b.retry.retries * b.retry.maxRetryTime,
      ).toBe(b.worstCaseMs);
      expect(b.worstCaseMs).toBeLessThanOrEqual((lease * 3) / 4);
      expect(b.requestTimeout).toBeGreaterThanOrEqual(200);
      expect(b.requestTimeout).toBeLessThanOrEqual(30_000);
      expect(b.retry.initialRetryTime * 1.2).toBeLessThanOrEqual(b.retry.maxRetryTime);
    }
  });

  it('gives the default 30s lease 6.75s requests, a 20.5s worst case', () => {
    expect(sendBudget(30_000)).toMatchObject({
      requestTimeout: 6_750,
      connectionTimeout: 3_000,
      worstCaseMs: 20_500,
    });
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
    expect(() => parseRelayOptions({ lease: '500ms' })).toThrow(/at least 2s/);
    expect(() => parseRelayOptions({ lease: '1999ms' })).toThrow(UsageError);
    expect(parseRelayOptions({ lease: '2s' }).leaseMs).toBe(MIN_LEASE_MS);
    expect(() => parseRelayOptions({ maxAttempts: 1.5 })).toThrow(UsageError);
    expect(parseRelayOptions({}).relayId).not.toBe(parseRelayOptions({}).relayId);
  });
});
