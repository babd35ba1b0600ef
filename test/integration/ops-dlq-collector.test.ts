import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { freePort } from '../support/ports.js';
import { dlqTopic } from '../../src/lib/kafka/topics.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { deadLetterMessage } from '../../src/lib/kafka/dead-letter.js';
import { eventHeaders } from '../../src/lib/kafka/event-headers.js';
import { createEvent, orderCreatedFromV1, encodeEvent } from '../../src/lib/events/index.js';
import { dailyRankingKey } from '../../src/lib/ranking/score.js';

/**
 * The operator's path end to end: a valid event the collector once dead-lettered is replayed with
 * `commerce dlq replay` into a running `commerce collector run`, which applies it exactly once; the
 * same letter replayed again is recognised as a duplicate and changes nothing.
 */
const at = new Date('2024-05-01T10:00:00Z');
const event = createEvent(
  'OrderCreated',
  500,
  1,
  orderCreatedFromV1({
    orderId: 500,
    userId: 'u1',
    items: [
      { productId: 7, quantity: 2, unitPrice: 300 },
      { productId: 8, quantity: 1, unitPrice: 1000 },
    ],
    totalAmount: 1600,
  }),
  at,
);

/** Sum of a Prometheus counter over all its label sets, as served on the collector's /metrics. */
function counter(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('dlq replay into a running collector', () => {
  let ctx: TestContext;
  let collector: ChildProcess | undefined;
  let stdout = '';
  let port = 0; // a free one, taken in beforeAll
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  async function deadLetter() {
    const producer = createIdempotentProducer(ctx.kafka);
    await producer.connect();
    try {
      const letter = deadLetterMessage(
        {
          key: Buffer.from(event.aggregateId),
          value: Buffer.from(encodeEvent(event)),
          headers: eventHeaders(event),
        },
        {
          originalTopic: ctx.config.kafka.topics.order,
          originalPartition: 0,
          originalOffset: '0',
          consumerGroup: ctx.config.kafka.groupId,
          error: 'could not serialize access due to concurrent update',
          errorKind: 'failed',
          attempts: 3,
          failedAt: at.toISOString(),
        },
      );
      await producer.send({
        topic: dlqTopic(ctx.config.kafka.topics.order),
        ...SEND_ACKS_ALL,
        messages: [letter],
      });
    } finally {
      await producer.disconnect();
    }
  }

  async function replay() {
    const result = await runCli(
      ['dlq', 'replay', '--topic', 'order-events.dlq', '--json'], // KAFKA_TOPIC_PREFIX is added
      ctx.env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ replayed: 1, skipped: 0 });
  }

  /** Every effect the collector has: audit, idempotency, metrics (total and daily), live ranking. */
  async function effects() {
    const q = async (text: string) => (await ctx.pool.query(text)).rows;
    return {
      log: await q(`SELECT event_id::text, consumer, topic, envelope FROM event_log ORDER BY id`),
      handled: await q(
        `SELECT event_id::text, handler FROM event_inbox, unnest(handlers) AS handler
          WHERE handler <> 'audit' ORDER BY 1, 2`,
      ),
      metrics: await q(
        `SELECT product_id::int, sales_count::int, sales_amount::int, view_count::int
           FROM product_metrics ORDER BY 1`,
      ),
      daily: await q(
        `SELECT metric_date::text, product_id::int, sales_count::int, sales_amount::int
           FROM product_metrics_daily ORDER BY 2`,
      ),
      ranking: await ctx.redis.zrange(dailyRankingKey('20240501'), 0, -1, 'WITHSCORES'),
    };
  }

  beforeAll(async () => {
    ctx = await createTestContext();
    port = await freePort();
    collector = startCli(['collector', 'run', '--metrics-port', String(port)], {
      ...ctx.env,
      LOG_LEVEL: 'info',
    });
    collector.stdout!.on('data', (d) => (stdout += d));
    await waitForOutput(collector, /collector running/);
  });
  afterAll(async () => {
    if (collector) await stopCli(collector, 'SIGKILL').catch(() => undefined);
    await ctx?.close();
  });

  it('serves /healthz on its metrics port, as the Kubernetes probes expect', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('a replayed dead letter is applied exactly once', async () => {
    expect((await effects()).log).toEqual([]);
    await deadLetter();
    await replay();
    await eventually(async () => counter(await metrics(), 'collector_events_consumed_total') === 1);

    const applied = await effects();
    expect(applied.log).toEqual([
      {
        event_id: event.eventId,
        consumer: ctx.config.kafka.groupId,
        topic: ctx.config.kafka.topics.order,
        envelope: event,
      },
    ]);
    expect(applied.handled).toEqual([
      { event_id: event.eventId, handler: 'metrics' },
      { event_id: event.eventId, handler: 'points' },
      { event_id: event.eventId, handler: 'ranking' },
    ]);
    expect(applied.metrics).toEqual([
      { product_id: 7, sales_count: 2, sales_amount: 600, view_count: 0 },
      { product_id: 8, sales_count: 1, sales_amount: 1000, view_count: 0 },
    ]);
    expect(applied.daily).toEqual([
      { metric_date: '2024-05-01', product_id: 7, sales_count: 2, sales_amount: 600 },
      { metric_date: '2024-05-01', product_id: 8, sales_count: 1, sales_amount: 1000 },
    ]);
    // Units ordered times the order weight (0.7): product 7 ordered twice ranks above product 8.
    expect(applied.ranking.filter((_, i) => i % 2 === 0)).toEqual(['8', '7']);
    expect(Number(applied.ranking[3])).toBeCloseTo(2 * Number(applied.ranking[1]), 9);
  });

  it('the same letter replayed again is counted as a duplicate and changes nothing', async () => {
    const before = await effects();
    await deadLetter();
    await replay();
    // Wait for the second delivery to be handled either way, then say which way it went.
    const seen = (text: string) =>
      counter(text, 'collector_events_consumed_total') + counter(text, 'collector_duplicates_skipped_total');
    const text = await eventually(async () => {
      const t = await metrics();
      if (seen(t) !== 2) throw new Error(`the collector has seen ${seen(t)} of 2 deliveries`);
      return t;
    });
    expect(counter(text, 'collector_duplicates_skipped_total')).toBe(1);
    expect(counter(text, 'collector_events_consumed_total')).toBe(1);
    expect(await effects()).toEqual(before);
    expect(counter(text, 'collector_dead_lettered_total')).toBe(0);

    expect(await stopCli(collector!, 'SIGTERM')).toBe(0);
    collector = undefined;
    expect(stdout).toMatch(
      /Collector stopped: 1 event\(s\) applied, 1 duplicate\(s\) skipped, 0 dead-lettered/,
    );
  });
});
