import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { createEvent, decodeEvent, encodeEvent } from '../../src/lib/events/index.js';

describe('commerce kafka topics', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(() => ctx?.close());

  it('creates the topics and their dead-letter topics, then finds them on the second run', async () => {
    const first = await runCli(['kafka', 'topics', '--json'], ctx.env);
    expect(first.code).toBe(0);
    const names = first.json.topics.map((t: { name: string }) => t.name);
    expect(names).toEqual([
      `t${ctx.id}-catalog-events`,
      `t${ctx.id}-catalog-events.dlq`,
      `t${ctx.id}-order-events`,
      `t${ctx.id}-order-events.dlq`,
    ]);
    expect(first.json.topics.every((t: { created: boolean }) => t.created)).toBe(true);
    expect(first.json.topics[0].actualPartitions).toBe(3);

    const second = await runCli(['kafka', 'topics', '--json'], ctx.env);
    expect(second.code).toBe(0);
    expect(second.json.topics.some((t: { created: boolean }) => t.created)).toBe(false);
  });

  it('carries an event through the real broker: idempotent produce, consume, decode', async () => {
    const topic = ctx.config.kafka.topics.catalog;
    const event = createEvent('LikeChanged', 7, 1, { productId: 7, userId: 'u1', liked: true, likeCount: 1 });
    const producer = createIdempotentProducer(ctx.kafka);
    await producer.connect();
    await producer.send({
      topic,
      ...SEND_ACKS_ALL,
      messages: [{ key: event.aggregateId, value: encodeEvent(event) }],
    });
    await producer.disconnect();

    const consumer = ctx.kafka.consumer({ groupId: `${ctx.config.kafka.groupId}-smoke` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<ReturnType<typeof decodeEvent>>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(decodeEvent(message.value)) });
    });
    await consumer.disconnect();
    expect(received).toEqual(event);
  });

  it('a broker that cannot be reached gives exit code 4', async () => {
    const result = await runCli(['kafka', 'topics'], { ...ctx.env, KAFKA_BROKERS: '127.0.0.1:1' }, 90_000);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Kafka is unavailable/);
  });
});
