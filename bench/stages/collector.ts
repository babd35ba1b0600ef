import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/lib/log.js';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { startCollector, type CollectorOptions } from '../../src/jobs/collector/collector.js';
import { createWebhookStep } from '../../src/jobs/collector/webhook-handler.js';
import { WebhookSender } from '../../src/jobs/collector/webhook/sender.js';
import { WEBHOOK_DEFAULTS } from '../../src/jobs/collector/webhook/options.js';
import { createWebhookMetrics } from '../../src/jobs/collector/webhook/metrics.js';
import { encodeEvent } from '../../src/lib/events/index.js';
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
 * Collector: Kafka -> committed effects (event_inbox: marks and audit columns, product_metrics, daily metrics,
 * Redis) for N events, against a bare kafkajs consumer reading the same topic and committing per
 * batch; then the same N events again, all duplicates, replayed by the same consumer group. Then the
 * webhook handler against a local receiver answering 204 (webhookCase).
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
    const webhook = await webhookCase(ctx, quick ? 5_000 : 20_000, log);
    return {
      figures: [newRate, dupRate, webhook],
      targets: [
        target('collector', 'collector / bare consumer >= 0.35', newRate.ratio!, 'min', 0.35),
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
async function collect(
  ctx: BenchContext,
  topic: string,
  n: number,
  options: CollectorOptions = {},
): Promise<{ ms: number }> {
  const collector = await startCollector(
    {
      config: ctx.config,
      pool: ctx.pool,
      redis: ctx.redis,
      kafka: ctx.kafka,
      logger: createLogger('error', { pretty: false }),
    },
    { topics: [topic], ...options },
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

/**
 * Webhook delivery with a healthy receiver (a local HTTP server answering 204): a `webhook` group (as
 * deployed: commerce-webhook, default concurrency) on n new events, against bare fetch POSTing the
 * same number of envelopes to the same receiver, as many at a time as the sender's concurrency.
 */
async function webhookCase(ctx: BenchContext, n: number, log: (m: string) => void) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const topic = await ctx.createTopic('webhook');
    await produce(ctx.kafka, topic, n);
    log('collector: bare fetch to a receiver answering 204');
    const bare = await timed(() => barePosts(url, n, WEBHOOK_DEFAULTS.concurrency));
    log('collector: a webhook group to the same receiver');
    const options = { ...WEBHOOK_DEFAULTS, url, secret: 'bench-webhook-secret-0123', eventTypes: null };
    const logger = createLogger('error', { pretty: false });
    const sender = new WebhookSender(options, logger, createWebhookMetrics(new Registry()));
    const group = await collect(ctx, topic, n, {
      groupId: `${ctx.id}-webhook`,
      handlers: ['webhook'],
      webhook: createWebhookStep(ctx.pool, sender, null),
    });
    return figure(
      'collector',
      `webhook group, ${n} events, receiver 204`,
      perSecond(n, group.ms),
      'events/s',
      { name: `bare fetch, ${WEBHOOK_DEFAULTS.concurrency} at a time`, value: perSecond(n, bare.ms) },
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** n POSTs of event envelopes, `concurrency` at a time: what this receiver takes on this machine now. */
async function barePosts(url: string, n: number, concurrency: number): Promise<void> {
  const bodies = viewEvents(n).map((e) => encodeEvent(e));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const res = await fetch(url, {
        method: 'POST',
        body: bodies[i],
        headers: { 'content-type': 'application/json' },
      });
      await res.body?.cancel();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
