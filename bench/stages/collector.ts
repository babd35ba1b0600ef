import type { Kafka } from 'kafkajs';
import { createLogger } from '../../src/lib/log.js';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { startCollector } from '../../src/jobs/collector/collector.js';
import { createBenchContext, type BenchContext } from '../lib/context.js';
import { eventMessage, viewEvents } from '../lib/events.js';
import {
  figure,
  perSecond,
  target,
  timed,
  waitFor,
  type StageOptions,
  type StageResult,
} from '../lib/measure.js';

/**
 * Collector: Kafka -> committed effects (event_handled, event_log, product_metrics, daily metrics,
 * Redis) for N events, against a bare kafkajs consumer reading the same topic and committing per
 * batch; then the same N events again, all duplicates, replayed by the same consumer group.
 */
export async function collectorStage({ quick, log }: StageOptions): Promise<StageResult> {
  const n = quick ? 5_000 : 100_000;
  const ctx = await createBenchContext();
  try {
    const topic = ctx.config.kafka.topics.catalog;
    log(`collector: producing ${n} events`);
    await produce(ctx.kafka, topic, n);

    log('collector: bare consumer baseline');
    const bare = await bareConsume(ctx.kafka, topic, `${ctx.config.kafka.groupId}-bare`, n);
    log('collector: new events');
    const fresh = await collect(ctx, topic, n);
    await withAdmin(ctx.kafka, (a) =>
      a.resetOffsets({ groupId: ctx.config.kafka.groupId, topic, earliest: true }),
    );
    log('collector: duplicates only');
    const dupes = await collect(ctx, topic, n);

    const baseline = { name: 'bare kafkajs consumer', value: perSecond(n, bare.ms) };
    const newRate = figure(
      'collector',
      `Kafka -> metrics, ${n} new events`,
      perSecond(n, fresh.ms),
      'events/s',
      baseline,
    );
    const dupRate = figure('collector', `${n} duplicates`, perSecond(n, dupes.ms), 'events/s', baseline);
    return {
      figures: [newRate, dupRate],
      targets: [
        target('collector', 'collector / bare consumer >= 0.25', newRate.ratio!, 'min', 0.25),
        target('collector', 'duplicates / new events >= 1', dupRate.value / newRate.value, 'min', 1),
      ],
    };
  } finally {
    await ctx.close();
  }
}

async function produce(kafka: Kafka, topic: string, n: number) {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  try {
    const events = viewEvents(n);
    for (let i = 0; i < n; i += 1_000)
      await producer.send({
        topic,
        messages: events.slice(i, i + 1_000).map(eventMessage),
        ...SEND_ACKS_ALL,
      });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Runs the collector (its group, from the committed offsets) until it has handled n events, then stops
 * it. Timed from the moment it joined its group (as the baseline) to the last event handled.
 */
async function collect(ctx: BenchContext, topic: string, n: number): Promise<{ ms: number }> {
  const collector = await startCollector(
    {
      config: ctx.config,
      pool: ctx.pool,
      redis: ctx.redis,
      kafka: ctx.kafka,
      logger: createLogger('error', { pretty: false }),
    },
    { topics: [topic] },
  );
  const s = collector.stats;
  const run = await timed(() =>
    Promise.race([
      waitFor('the collector', () => s.consumed + s.duplicates + s.deadLettered >= n),
      collector.failed,
    ]),
  );
  await collector.stop();
  if (s.deadLettered > 0) throw new Error(`${s.deadLettered} benchmark events were dead-lettered`);
  return run;
}

/** A bare consumer committing after every batch; timed from joining its group to the n-th message. */
async function bareConsume(kafka: Kafka, topic: string, groupId: string, n: number): Promise<{ ms: number }> {
  const consumer = kafka.consumer({ groupId });
  let seen = 0;
  let joinedAt = 0n;
  consumer.on(consumer.events.GROUP_JOIN, () => (joinedAt = process.hrtime.bigint()));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const last = batch.messages[batch.messages.length - 1];
        if (!last) return;
        seen += batch.messages.length;
        resolveOffset(last.offset);
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
        ]);
        await heartbeat();
      },
    });
    await waitFor('the bare consumer', () => seen >= n);
    return { ms: Number(process.hrtime.bigint() - joinedAt) / 1e6 };
  } finally {
    await consumer.disconnect();
  }
}
