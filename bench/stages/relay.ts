import type { Kafka, Message } from 'kafkajs';
import { rows } from '../../src/lib/db/query.js';
import { createLogger } from '../../src/lib/log.js';
import { Relay } from '../../src/jobs/relay/relay.js';
import { parseRelayOptions, RELAY_DEFAULTS } from '../../src/jobs/relay/options.js';
import { toMessage } from '../../src/jobs/relay/batch.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import { claimEvents } from '../../src/lib/outbox/sql.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { createEvent, type DomainEvent } from '../../src/lib/events/index.js';
import { createBenchContext } from '../lib/context.js';
import { insertOutbox, viewEvents } from '../lib/events.js';
import { figure, perSecond, target, timed, type StageOptions, type StageResult } from '../lib/measure.js';

/**
 * Relay: outbox_event -> Kafka for N rows, claiming and marking included (the relay's drain, i.e.
 * `relay run --once`), against a bare idempotent producer sending the very same messages (same keys,
 * values, headers; batches of the relay's batch size; acks=all) to a fresh topic.
 * Then a hot backlog (most rows on 5 products, e.g. a flash sale or a relay that was down) drained by
 * one relay and by two at once: each must stay within 2x of the spread-out figure.
 */
export async function relayStage({ quick, log }: StageOptions): Promise<StageResult> {
  const n = quick ? 5_000 : 100_000;
  const ctx = await createBenchContext();
  try {
    log(`relay: writing ${n} outbox rows`);
    await insertOutbox(ctx.pool, viewEvents(n), ctx.config.kafka.topics);
    await ctx.pool.query('VACUUM ANALYZE outbox_event');
    // The baseline's messages are the relay's own, read with the relay's claim and handed back.
    const claimed = await rows<ClaimedEvent>(ctx.pool, claimEvents('bench-peek', n, 60_000));
    await ctx.pool.query('UPDATE outbox_event SET locked_by = NULL, locked_until = NULL');
    const messages = claimed.sort((a, b) => a.id - b.id).map(toMessage);
    const topic = await ctx.createTopic('baseline-catalog');

    log('relay: bare producer baseline');
    const bare = await timed(() => sendAll(ctx.kafka, topic, messages, RELAY_DEFAULTS.batchSize));
    log('relay: relay drain');
    const relay = new Relay({
      config: ctx.config,
      pool: ctx.pool,
      logger: createLogger('error', { pretty: false }),
      options: parseRelayOptions({}),
    });
    const run = await timed(() => relay.drain());
    if (run.result.published !== n) throw new Error(`relay published ${run.result.published} of ${n}`);

    const baseline = { name: 'bare kafkajs producer', value: perSecond(n, bare.ms) };
    const f = figure('relay', `outbox -> Kafka, ${n} events`, perSecond(n, run.ms), 'events/s', baseline);
    const spread = { name: 'spread-out backlog', value: f.value };

    const hotN = quick ? 5_000 : 20_000;
    const hot = [];
    for (const relays of [1, 2]) {
      await ctx.pool.query('DELETE FROM outbox_event');
      const events = [...viewEvents(hotN, 5), ...viewEvents(1_000, 500).map(onOtherProducts)];
      await insertOutbox(ctx.pool, events, ctx.config.kafka.topics);
      await ctx.pool.query('VACUUM ANALYZE outbox_event');
      log(`relay: hot backlog (${hotN} rows on 5 products + 1,000 on 500 others), ${relays} relay(s)`);
      const drains = Array.from(
        { length: relays },
        () =>
          new Relay({
            config: ctx.config,
            pool: ctx.pool,
            logger: createLogger('error', { pretty: false }),
            // A relay whose claims come back empty (behind the other's leases) re-polls every 100ms.
            options: parseRelayOptions({ pollInterval: '100ms' }),
          }),
      );
      const hotRun = await timed(() => Promise.all(drains.map((r) => r.drain())));
      const published = hotRun.result.reduce((sum, s) => sum + s.published, 0);
      if (published < events.length)
        throw new Error(`hot backlog: published ${published} of ${events.length}`);
      hot.push(
        figure(
          'relay',
          `hot backlog, ${events.length} events, ${relays} relay${relays > 1 ? 's' : ''}`,
          perSecond(events.length, hotRun.ms),
          'events/s',
          spread,
        ),
      );
    }
    return {
      figures: [f, ...hot],
      targets: [
        target('relay', 'relay / bare producer >= 0.5', f.ratio!, 'min', 0.5),
        ...hot.map((h) => target('relay', `${h.name} / spread-out >= 0.5 (within 2x)`, h.ratio!, 'min', 0.5)),
        target('relay', 'hot backlog: 2 relays / 1 relay >= 0.9', hot[1]!.value / hot[0]!.value, 'min', 0.9),
      ],
    };
  } finally {
    await ctx.close();
  }
}

/** The same traffic on products 100,001 and up, so it never shares an aggregate with the hot rows. */
function onOtherProducts(event: DomainEvent): DomainEvent {
  const productId = Number(event.aggregateId) + 100_000;
  return createEvent('ProductViewed', productId, event.version, { productId, count: 1 });
}

async function sendAll(kafka: Kafka, topic: string, messages: Message[], batch: number) {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += batch)
      await producer.sendBatch({
        topicMessages: [{ topic, messages: messages.slice(i, i + batch) }],
        ...SEND_ACKS_ALL,
      });
  } finally {
    await producer.disconnect();
  }
}
