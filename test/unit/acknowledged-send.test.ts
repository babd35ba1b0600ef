import { describe, expect, it } from 'vitest';
import type { Message, PartitionMetadata, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import {
  pinningPartitioner,
  sendAcknowledged,
  unacknowledged,
  UnacknowledgedSendError,
} from '../../src/lib/kafka/acknowledged-send.js';
import { unavailableService } from '../../src/lib/error-kind.js';
import { classifySendError } from '../../src/jobs/relay/send-errors.js';
import { sendRows } from '../../src/jobs/relay/send-rows.js';
import { keepRenewed } from '../../src/jobs/relay/batch.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import { createLogger } from '../../src/lib/log.js';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({
    partitionId: i,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
const ack = (topicName: string, partition: number, errorCode = 0): RecordMetadata => ({
  topicName,
  partition,
  errorCode,
});
const msg = (value: string, partition?: number): Message => ({ key: value, value, partition });
const values = (list: TopicMessages[]) => list.map((t) => [t.topic, t.messages.map((m) => m.value)]);

/**
 * A producer that partitions like a real one (the pinning partitioner, 2 partitions) and answers for
 * the partitions `answer` lets through, as kafkajs does when #1303 strikes: it resolves anyway.
 */
function fakeProducer(answer: (round: number, topic: string, partition: number) => boolean) {
  const partition = pinningPartitioner();
  const sent: Array<Array<[string, number, string]>> = [];
  const producer: Pick<Producer, 'sendBatch'> = {
    async sendBatch({ topicMessages }) {
      const round = sent.length;
      const batch: Array<[string, number, string]> = [];
      const acks = new Map<string, RecordMetadata>();
      for (const { topic, messages } of topicMessages ?? []) {
        for (const message of messages) {
          const p = partition({ topic, partitionMetadata: metadata(2), message });
          batch.push([topic, p, String(message.value)]);
          if (answer(round, topic, p)) acks.set(`${topic}/${p}`, ack(topic, p));
        }
      }
      sent.push(batch);
      return [...acks.values()];
    },
  };
  return { producer, sent };
}

describe('pinningPartitioner', () => {
  it('records the default partition on the message and keeps it when the metadata changes', () => {
    const partition = pinningPartitioner();
    const message: Message = { key: 'product-7', value: 'v' };
    const first = partition({ topic: 't', partitionMetadata: metadata(2), message });
    expect(message.partition).toBe(first);
    expect(partition({ topic: 't', partitionMetadata: metadata(5), message })).toBe(first);
  });

  it('leaves a partition the caller chose', () => {
    const partition = pinningPartitioner();
    expect(partition({ topic: 't', partitionMetadata: metadata(3), message: msg('a', 2) })).toBe(2);
  });
});

describe('unacknowledged', () => {
  it('keeps, in order, the messages of partitions without an error-free ack', () => {
    const sent = [
      { topic: 'a', messages: [msg('a0', 0), msg('a1', 1), msg('a2', 0), msg('a3', 1)] },
      { topic: 'b', messages: [msg('b0', 0), msg('b1', 1)] },
    ];
    const acks = [ack('a', 0), ack('b', 1), ack('b', 0, 6)];
    expect(values(unacknowledged(sent, acks))).toEqual([
      ['a', ['a1', 'a3']],
      ['b', ['b0']],
    ]);
  });

  it('is empty when every partition written answered; an ack of another topic does not count', () => {
    const sent = [{ topic: 'a', messages: [msg('x', 0), msg('y', 1)] }];
    expect(unacknowledged(sent, [ack('a', 0), ack('a', 1)])).toEqual([]);
    expect(values(unacknowledged(sent, [ack('a', 0), ack('b', 1)]))).toEqual([['a', ['y']]]);
  });

  it('refuses a message without a pinned partition (a producer not made by createIdempotentProducer)', () => {
    expect(() => unacknowledged([{ topic: 'a', messages: [msg('x')] }], [])).toThrow(
      /createIdempotentProducer/,
    );
  });
});

describe('sendAcknowledged', () => {
  const two = () => [{ topic: 't', messages: ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map((v) => msg(v)) }];

  it('re-sends only the messages of the partition kafkajs left unacknowledged, in order', async () => {
    const { producer, sent } = fakeProducer((round, _t, p) => round > 0 || p === 0);
    const acks = await sendAcknowledged(producer, two());
    expect(sent).toHaveLength(2);
    const [first, again] = sent;
    const onP1 = first!.filter(([, p]) => p === 1).map(([, , v]) => v);
    expect(onP1.length).toBeGreaterThan(0);
    expect(again!.map(([, , v]) => v)).toEqual(onP1);
    expect(again!.every(([, p]) => p === 1)).toBe(true);
    expect(new Set(acks.map((a) => a.partition))).toEqual(new Set([0, 1]));
  });

  it('gives up after its re-sends with an error that means "Kafka unavailable"', async () => {
    const { producer, sent } = fakeProducer((_r, _t, p) => p === 0);
    const err = await sendAcknowledged(producer, two(), { resends: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnacknowledgedSendError);
    expect(sent).toHaveLength(2);
    const missing = (err as UnacknowledgedSendError).unacknowledged;
    expect(missing.flatMap((t) => t.messages).every((m) => m.partition === 1)).toBe(true);
    expect(unavailableService(err)).toBe('Kafka');
    expect(classifySendError(err)).toBe('unavailable');
    expect((err as { retriable: boolean }).retriable).toBe(true);
  });

  it('re-sends only what beforeResend gives back, and nothing when it gives back nothing', async () => {
    const { producer, sent } = fakeProducer((round, _t, p) => round > 0 || p === 0);
    const asked: string[][] = [];
    await sendAcknowledged(producer, two(), {
      beforeResend: async (pending) => {
        asked.push(pending.flatMap((t) => t.messages.map((m) => String(m.value))));
        return [{ topic: 't', messages: pending[0]!.messages.slice(1) }];
      },
    });
    expect(sent[1]!.map(([, , v]) => v)).toEqual(asked[0]!.slice(1));

    const quiet = fakeProducer((round, _t, p) => round > 0 || p === 0);
    await sendAcknowledged(quiet.producer, two(), { beforeResend: async () => [] });
    expect(quiet.sent).toHaveLength(1);
  });
});

describe('sendRows (the relay)', () => {
  const logger = createLogger('silent');
  const row = (id: number, aggregateId: string, version: number): ClaimedEvent => ({
    id,
    eventId: `e${id}`,
    aggregateType: 'product',
    aggregateId,
    version,
    eventType: 'ProductViewed',
    topic: 't',
    partitionKey: aggregateId,
    value: `{"id":${id}}`,
    attemptCount: 0,
    schemaVersion: 1,
  });
  // Aggregates whose keys land on partition 0 and 1 of 2.
  const keyOn = (p: number) => {
    const partition = pinningPartitioner();
    for (let i = 0; ; i++)
      if (
        partition({ topic: 't', partitionMetadata: metadata(2), message: { key: `k${i}`, value: '' } }) === p
      )
        return `k${i}`;
  };
  const [k0, k1] = [keyOn(0), keyOn(1)];
  const rows = [row(1, k0, 1), row(2, k1, 1), row(3, k0, 2), row(4, k1, 2)];

  it('marks as acknowledged only the rows of acknowledged partitions; the others go back', async () => {
    const { producer } = fakeProducer((_r, _t, p) => p === 0);
    const renew = async (events: ClaimedEvent[]) =>
      keepRenewed(
        events,
        events.map((e) => e.id),
      );
    const sent = await sendRows(producer, rows, renew, logger);
    expect(sent.acked.map((e) => e.id)).toEqual([1, 3]);
    expect(sent.unacked.map((e) => e.id)).toEqual([2, 4]);
    expect(sent.unavailable).toBeInstanceOf(UnacknowledgedSendError);
  });

  it('renews before a re-send: a row taken over is not re-sent nor acknowledged, its successors are held', async () => {
    const { producer, sent: batches } = fakeProducer((round, _t, p) => round > 0 || p === 0);
    const renewed: number[][] = [];
    const renew = async (events: ClaimedEvent[]) => {
      renewed.push(events.map((e) => e.id));
      return keepRenewed(
        events,
        events.filter((e) => e.id !== 2).map((e) => e.id),
      );
    };
    const sent = await sendRows(producer, rows, renew, logger);
    expect(renewed).toEqual([[2, 4]]);
    expect(batches).toHaveLength(1); // row 2 lost, row 4 held behind it: nothing left to re-send
    expect(sent.acked.map((e) => e.id)).toEqual([1, 3]);
    expect(sent.held).toEqual([4]);
    expect(sent.unacked).toEqual([]);
  });
});
