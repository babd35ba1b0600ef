import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaMessage, Producer } from 'kafkajs';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { dlqTopic } from '../../src/lib/kafka/topics.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { deadLetterMessage, DLQ_HEADERS, headerString } from '../../src/lib/kafka/dead-letter.js';
import { eventHeaders } from '../../src/lib/kafka/event-headers.js';
import { readRange } from '../../src/lib/kafka/read-range.js';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import { createEvent, encodeEvent, type DomainEvent } from '../../src/lib/events/index.js';

/** Every message now on a topic, read through a throwaway group. */
async function readAll(ctx: TestContext, topic: string): Promise<KafkaMessage[]> {
  const out: KafkaMessage[] = [];
  await readRange(ctx.kafka, {
    topic,
    groupId: `${ctx.config.kafka.groupId}-peek-${Math.random()}`,
    handle: async ({ message }) => (out.push(message), true),
  });
  return out;
}

async function endOffsets(ctx: TestContext, topic: string): Promise<string[]> {
  const offsets = await withAdmin(ctx.kafka, (admin) => admin.fetchTopicOffsets(topic));
  return offsets.sort((a, b) => a.partition - b.partition).map((p) => p.high);
}

async function groupOffsets(ctx: TestContext, groupId: string, topics: string[]) {
  return withAdmin(ctx.kafka, (admin) => admin.fetchOffsets({ groupId, topics }));
}

describe('commerce dlq list / replay', () => {
  let ctx: TestContext;
  let producer: Producer;
  let catalog: string;
  let dlq: string;
  const events: DomainEvent[] = [];

  function letter(event: DomainEvent, originalOffset: number, withTopic = true) {
    const message = deadLetterMessage(
      {
        key: Buffer.from(event.aggregateId),
        value: Buffer.from(encodeEvent(event)),
        headers: eventHeaders(event),
      },
      {
        originalTopic: catalog,
        originalPartition: 1,
        originalOffset: String(originalOffset),
        consumerGroup: ctx.config.kafka.groupId,
        error: `handler failed for ${event.eventType}`,
        errorKind: 'failed',
        attempts: 5,
        failedAt: '2024-05-01T00:00:00.000Z',
      },
    );
    if (!withTopic) delete message.headers[DLQ_HEADERS.originalTopic];
    return message;
  }

  async function send(...messages: Array<ReturnType<typeof letter>>) {
    await producer.send({ topic: dlq, ...SEND_ACKS_ALL, messages });
  }

  beforeAll(async () => {
    ctx = await createTestContext();
    catalog = ctx.config.kafka.topics.catalog;
    dlq = dlqTopic(catalog);
    producer = createIdempotentProducer(ctx.kafka);
    await producer.connect();
    events.push(
      createEvent('LikeChanged', 11, 3, { productId: 11, userId: 'u1', liked: true, likeCount: 4 }),
      createEvent('ProductViewed', 12, 1, { productId: 12, count: 2 }),
      createEvent('ProductViewed', 13, 1, { productId: 13, count: 1 }),
    );
    const notJson = { ...letter(events[1]!, 8), value: Buffer.from('not json {') };
    await send(letter(events[0]!, 7), notJson, letter(events[2]!, 9, false));
    // The collector group has committed somewhere: listing must leave that exactly as it is.
    const admin = ctx.kafka.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: ctx.config.kafka.groupId,
      topic: dlq,
      partitions: [{ partition: 0, offset: '1' }],
    });
    await admin.disconnect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await ctx?.close();
  });

  it('lists letters with their origin, error and event type, without moving any group', async () => {
    const before = await groupOffsets(ctx, ctx.config.kafka.groupId, [dlq, catalog]);
    const result = await runCli(['dlq', 'list', '--json'], ctx.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.topic).toBe(dlq);
    expect(result.json.letters).toMatchObject([
      {
        offset: '0',
        key: '11',
        eventId: events[0]!.eventId,
        eventType: 'LikeChanged',
        originalTopic: catalog,
        originalPartition: 1,
        originalOffset: '7',
        error: 'handler failed for LikeChanged',
        errorKind: 'failed',
        attempts: 5,
        failedAt: '2024-05-01T00:00:00.000Z',
        replayCount: 0,
      },
      // The value is not JSON: the type comes from the event-type header.
      { offset: '1', key: '12', eventType: 'ProductViewed', eventId: events[1]!.eventId },
      { offset: '2', key: '13', originalTopic: null },
    ]);
    expect(await groupOffsets(ctx, ctx.config.kafka.groupId, [dlq, catalog])).toEqual(before);
    const admin = ctx.kafka.admin();
    await admin.connect();
    const { groups } = await admin.listGroups();
    await admin.disconnect();
    expect(groups.filter((g) => g.groupId.includes('-dlq-list-'))).toEqual([]);

    const limited = await runCli(['dlq', 'list', '--limit', '2', '--from-offset', '1', '--json'], ctx.env);
    expect(limited.json.letters.map((l: { offset: string }) => l.offset)).toEqual(['1', '2']);
    const badOffset = await runCli(['dlq', 'list', '--from-offset', '-1'], ctx.env);
    expect(badOffset.code).toBe(2);
    expect(badOffset.stderr).toMatch(/--from-offset/);

    const table = await runCli(['dlq', 'list'], ctx.env);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('LikeChanged');
    expect(table.stdout).toContain('(no header)');
    expect(table.stdout).toContain(`${catalog}[1]@7`);
  });

  it('an empty dead-letter topic lists nothing and returns', async () => {
    const result = await runCli(
      ['dlq', 'list', '--topic', 'order-events.dlq', '--json'], // KAFKA_TOPIC_PREFIX is added
      ctx.env,
    );
    expect(result.code).toBe(0);
    expect(result.json.topic).toBe(dlqTopic(ctx.config.kafka.topics.order));
    expect(result.json.letters).toEqual([]);
  });

  it('dry run reports what would happen and publishes and commits nothing', async () => {
    const ends = await endOffsets(ctx, catalog);
    const result = await runCli(['dlq', 'replay', '--dry-run', '--json'], ctx.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.letters.map((l: { action: string }) => l.action)).toEqual([
      'would-replay',
      'would-replay',
      'would-skip',
    ]);
    expect(await endOffsets(ctx, catalog)).toEqual(ends);
    const [progress] = await groupOffsets(ctx, `${ctx.config.kafka.groupId}-dlq-replay`, [dlq]);
    expect(progress!.partitions[0]!.offset).toBe('-1');
  });

  it('replays to the original topic with the same key and value and replay-count 1; skips the letter without origin', async () => {
    const result = await runCli(['dlq', 'replay', '--json'], ctx.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ replayed: 2, skipped: 1 });
    expect(result.json.letters[2]).toMatchObject({
      offset: '2',
      action: 'skipped',
      reason: /x-original-topic/,
    });

    const republished = await readAll(ctx, catalog);
    expect(republished).toHaveLength(2);
    const byKey = new Map(republished.map((m) => [m.key!.toString(), m]));
    expect(byKey.get('11')!.value!.toString()).toBe(encodeEvent(events[0]!));
    expect(byKey.get('12')!.value!.toString()).toBe('not json {');
    for (const m of republished) {
      expect(headerString(m.headers, DLQ_HEADERS.replayCount)).toBe('1');
      expect(headerString(m.headers, DLQ_HEADERS.originalTopic)).toBeUndefined();
      expect(headerString(m.headers, DLQ_HEADERS.error)).toBeUndefined();
      expect(headerString(m.headers, 'event-id')).toBeDefined();
    }
    const [progress] = await groupOffsets(ctx, `${ctx.config.kafka.groupId}-dlq-replay`, [dlq]);
    expect(progress!.partitions[0]!.offset).toBe('3');

    // A second replay has nothing left: progress is stored, nothing is published again.
    const again = await runCli(['dlq', 'replay', '--json'], ctx.env);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ replayed: 0, skipped: 0, letters: [] });
    expect(await readAll(ctx, catalog)).toHaveLength(2);
  });

  it('--event-id replays only that letter and does not move progress past letters it passed over', async () => {
    const [replayedOnce] = (await readAll(ctx, catalog)).filter((m) => m.key!.toString() === '11');
    // The replayed event failed again: its new letter carries replay-count 1.
    const again = letter(events[0]!, 20);
    again.headers[DLQ_HEADERS.replayCount] = replayedOnce!.headers![DLQ_HEADERS.replayCount]!;
    await send(again, letter(events[2]!, 21));

    const only = await runCli(['dlq', 'replay', '--event-id', events[2]!.eventId, '--json'], ctx.env);
    expect(only.code, only.stderr).toBe(0);
    expect(only.json.letters.map((l: { offset: string }) => l.offset)).toEqual(['4']);
    const [progress] = await groupOffsets(ctx, `${ctx.config.kafka.groupId}-dlq-replay`, [dlq]);
    expect(progress!.partitions[0]!.offset).toBe('3');

    const rest = await runCli(['dlq', 'replay', '--limit', '1', '--json'], ctx.env);
    expect(rest.json.letters).toMatchObject([{ offset: '3', action: 'replayed', replayCount: 1 }]);
    const onCatalog = await readAll(ctx, catalog);
    const counts = onCatalog
      .filter((m) => m.key!.toString() === '11')
      .map((m) => headerString(m.headers, DLQ_HEADERS.replayCount));
    expect(counts).toEqual(['1', '2']);
    const [after] = await groupOffsets(ctx, `${ctx.config.kafka.groupId}-dlq-replay`, [dlq]);
    expect(after!.partitions[0]!.offset).toBe('4');
  });
});
