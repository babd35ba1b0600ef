import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer } from 'kafkajs';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { publish } from '../support/collector.js';
import { eventually } from '../support/wait.js';
import {
  createEvent,
  orderCreatedFromV1,
  encodeEvent,
  topicFor,
  type DomainEvent,
} from '../../src/lib/events/index.js';
import { eventHeaders } from '../../src/lib/kafka/event-headers.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { allGroupsLag } from '../../src/lib/kafka/consumer-lag.js';

const items = [{ productId: 1, quantity: 1, unitPrice: 100 }];
const orderCreated = (id: number) =>
  createEvent(
    'OrderCreated',
    id,
    1,
    orderCreatedFromV1({ orderId: id, userId: 'u', items, totalAmount: 100 }),
  );

describe('commerce events tail', () => {
  let ctx: TestContext;
  let member: Consumer;
  let joins = 0;
  let rebalances = 0;
  const recent: DomainEvent[] = [];
  beforeAll(async () => {
    ctx = await createTestContext({ topics: true });
    // A member of the collector's group, consuming both topics all along: it sees any rebalance.
    member = ctx.kafka.consumer({ groupId: ctx.config.kafka.groupId });
    member.on(member.events.GROUP_JOIN, () => joins++);
    member.on(member.events.REBALANCING, () => rebalances++);
    await member.connect();
    await member.subscribe({ topics: [ctx.config.kafka.topics.catalog, ctx.config.kafka.topics.order] });
    await member.run({ autoCommit: false, eachMessage: async () => undefined });
    await eventually(async () => joins === 1, 60_000);

    // Five minutes old (the producer's timestamp): outside --since 1m.
    const producer = createIdempotentProducer(ctx.kafka);
    await producer.connect();
    const old = [orderCreated(1), orderCreated(2)];
    for (const e of old)
      await producer.send({
        topic: topicFor(e, ctx.config.kafka.topics),
        ...SEND_ACKS_ALL,
        messages: [
          {
            key: e.aggregateId,
            value: encodeEvent(e),
            headers: eventHeaders(e),
            timestamp: String(Date.now() - 5 * 60_000),
          },
        ],
      });
    await producer.disconnect();
    // Now: three OrderCreated among other types, on both topics.
    recent.push(orderCreated(3), orderCreated(4), orderCreated(5));
    await publish(ctx, [
      recent[0]!,
      createEvent('OrderPaid', 3, 2, { orderId: 3, userId: 'u', paymentId: 1, amount: 100 }),
      recent[1]!,
      createEvent('ProductViewed', 7, 1, { productId: 7, count: 1 }),
      recent[2]!,
    ]);
  }, 120_000);
  afterAll(async () => {
    await member?.disconnect();
    await ctx?.close();
  });

  it("--type OrderCreated --since 1m: exactly the OrderCreated events of the last minute, as NDJSON; the collector's member sees no rebalance", async () => {
    const r = await runCli(
      ['events', 'tail', '--type', 'OrderCreated', '--since', '1m', '--until-idle'],
      ctx.env,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event.eventId).sort()).toEqual(recent.map((e) => e.eventId).sort());
    expect(lines[0]).toMatchObject({
      topic: ctx.config.kafka.topics.order,
      event: { eventType: 'OrderCreated' },
    });
    // Filters combine: one order's events, from the beginning.
    const one = await runCli(['events', 'tail', '--key', '3', '--from-beginning', '--until-idle'], ctx.env);
    expect(one.code, one.stderr).toBe(0);
    expect(
      one.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).event.eventType),
    ).toEqual(['OrderCreated', 'OrderPaid']);
    // The collector's member saw no rebalance.
    expect({ joins, rebalances }).toEqual({ joins: 1, rebalances: 0 });
  });

  it('follows new events until SIGTERM, beside a running group member that keeps its partitions', async () => {
    const tail = startCli(['events', 'tail', '--aggregate', 'product'], { ...ctx.env, LOG_LEVEL: 'info' });
    try {
      await waitForOutput(tail, /events tail: reading 3 partition/, 45_000);
      let out = '';
      tail.stdout!.on('data', (d) => (out += d));
      const liked = createEvent('LikeChanged', 9, 1, {
        productId: 9,
        userId: 'u',
        liked: true,
        likeCount: 1,
      });
      await publish(ctx, [orderCreated(6), liked]);
      await expect.poll(() => out, { timeout: 30_000 }).toMatch(/LikeChanged/);
      // While it runs, the only group consuming the topics is the collector's: the tail has none.
      const groups = await allGroupsLag(ctx.kafka, [
        ctx.config.kafka.topics.catalog,
        ctx.config.kafka.topics.order,
      ]);
      expect(groups.map((g) => g.groupId)).toEqual([ctx.config.kafka.groupId]);
      expect(
        out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).event.eventId),
      ).toEqual([liked.eventId]);
      expect(await stopCli(tail, 'SIGTERM')).toBe(0);
    } finally {
      if (tail.exitCode === null) tail.kill('SIGKILL');
    }
    expect({ joins, rebalances }).toEqual({ joins: 1, rebalances: 0 });
  });

  it('bad input: an unknown --type or a malformed --since is named, exit 2, no stack trace', async () => {
    const type = await runCli(['events', 'tail', '--type', 'OrderShipped'], ctx.env);
    expect(type.code).toBe(2);
    expect(type.stderr).toMatch(/unknown --type "OrderShipped"/);
    const since = await runCli(['events', 'tail', '--since', 'ten minutes'], ctx.env);
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since/);
    expect(type.stderr + since.stderr).not.toMatch(/\n\s+at /);
  });
});
