import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import {
  committedOffsets,
  endOffsets,
  publish,
  refuseEvents,
  startTestCollector,
} from '../support/collector.js';
import { createEvent } from '../../src/lib/events/index.js';
import { readDeadLetter } from '../../src/lib/kafka/dead-letter.js';
import { dlqTopic } from '../../src/lib/kafka/topics.js';

describe('collector: dead letters', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('dead-letters a poison message at once and a failing event after its attempts; the rest is processed', async () => {
    const topic = ctx.config.kafka.topics.catalog;
    // All on product 3 (one partition, one batch), so narrowing has neighbours to keep.
    const view = (v: number) => createEvent('ProductViewed', 3, v, { productId: 3, count: 1 }, new Date());
    const [before, failing, after] = [view(1), view(2), view(3)];
    const unknownType = JSON.stringify({ ...view(4), eventType: 'ProductExploded' });
    await publish(
      ctx,
      [before!],
      [
        { topic, key: '3', value: 'this is not json' },
        { topic, key: '3', value: unknownType },
      ],
    );
    await publish(ctx, [failing!, after!]);

    await refuseEvents(ctx.pool, [failing!.eventId], 'handler exploded');
    const collector = await startTestCollector(ctx, { maxAttempts: 2 });
    try {
      await eventually(() => collector.stats.consumed + collector.stats.deadLettered === 5);
      await eventually(async () => {
        const [committed, end] = await Promise.all([
          committedOffsets(ctx, collector.groupId, topic),
          endOffsets(ctx, topic),
        ]);
        return committed.every((c, i) => c === end[i] || end[i] === 0);
      });
    } finally {
      await collector.stop();
    }
    expect(collector.stats).toMatchObject({ consumed: 2, deadLettered: 3 });

    // Only the two good events have an inbox row (the others' transactions rolled back), each marked.
    const handled = await ctx.pool.query(
      `SELECT event_id::text FROM event_inbox WHERE handlers @> '{metrics,ranking}' ORDER BY 1`,
    );
    expect(Number((await ctx.pool.query('SELECT count(*) FROM event_inbox')).rows[0].count)).toBe(2);
    expect(handled.rows.map((r) => r.event_id).sort()).toEqual([before!.eventId, after!.eventId].sort());
    const metrics = await ctx.pool.query('SELECT view_count::int FROM product_metrics WHERE product_id = 3');
    expect(metrics.rows[0].view_count).toBe(2);

    const letters = await readTopic(ctx, dlqTopic(topic), 3);
    const infos = letters.map((m) => ({
      ...readDeadLetter(m.headers),
      key: m.key?.toString(),
      value: m.value?.toString(),
    }));
    const poison = infos.filter((i) => i.errorKind === 'poison');
    const failed = infos.filter((i) => i.errorKind === 'failed');
    expect(poison.map((p) => p.value).sort()).toEqual(['this is not json', unknownType].sort());
    expect(poison.every((p) => p.attempts === 1 && /JSON|unknown event type/.test(p.error!))).toBe(true);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      originalTopic: topic,
      consumerGroup: collector.groupId,
      error: 'handler exploded',
      attempts: 2,
      key: '3',
      value: JSON.stringify(failing),
    });
    expect(Number.isInteger(failed[0]!.originalPartition)).toBe(true);
    expect(Number(failed[0]!.originalOffset)).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(failed[0]!.failedAt!))).toBe(false);
    // The original event headers travel with the letter.
    expect(
      letters.find((m) => m.value?.toString() === JSON.stringify(failing))!.headers!['event-id']!.toString(),
    ).toBe(failing!.eventId);
  });
});

async function readTopic(ctx: TestContext, topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = ctx.kafka.consumer({ groupId: `${ctx.config.kafka.groupId}-dlq-reader` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await eventually(() => messages.length >= count);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
