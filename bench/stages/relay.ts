import { rows } from '../../src/lib/db/query.js';
import { createLogger } from '../../src/lib/log.js';
import { Relay } from '../../src/jobs/relay/relay.js';
import { parseRelayOptions, RELAY_DEFAULTS } from '../../src/jobs/relay/options.js';
import { toMessage } from '../../src/jobs/relay/batch.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import { claimEvents } from '../../test/support/outbox-reference.js';
import { createEvent, type DomainEvent } from '../../src/lib/events/index.js';
import { createBenchContext } from '../lib/context.js';
import { sendAllBare } from '../lib/producer.js';
import { insertOutbox, viewEvents } from '../lib/events.js';
import { figure, perSecond, target, timed, type StageOptions, type StageResult } from '../lib/measure.js';

/**
 * Relay: outbox_event -> Kafka for N rows, claiming and marking included (the relay's drain, i.e.
 * `relay run --once`), against a bare idempotent producer sending the very same messages (same keys,
 * values, headers; batches of the relay's batch size; acks=all) to a fresh topic.
 * Then a hot backlog (most rows on 5 products, e.g. a flash sale or a relay that was down) drained by
 * one relay and by two at once: each must stay within 2x of the spread-out figure.
 * Then flatness (issue 15): the same drain with 1,000,000 PUBLISHED rows of history in the table as
 * with none, and a 1,000-row backlog (drained twenty times over) against the 100,000-row one.
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
    const messages = claimed.sort((a, b) => a.id - b.id).map((e) => toMessage(e));
    const topic = await ctx.createTopic('baseline-catalog');

    log('relay: bare producer baseline');
    const bare = await timed(() => sendAllBare(ctx.kafka, topic, messages, RELAY_DEFAULTS.batchSize));
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

    // The same rows again, drained in lock mode (row locks held while sending, one write per event).
    await ctx.pool.query('DELETE FROM outbox_event');
    await ctx.pool.query('VACUUM outbox_event');
    log('relay: relay drain, --mode lock');
    const lockFigure = figure(
      'relay',
      `outbox -> Kafka, ${n} events, --mode lock`,
      await drainRate(ctx, viewEvents(n), 'lock'),
      'events/s',
      baseline,
    );
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

    const flat = await flatness(ctx, quick, log, f);
    return {
      figures: [f, lockFigure, ...hot, ...flat.figures],
      targets: [
        ...flat.targets,
        target('relay', 'relay / bare producer >= 0.6 (issue 23)', f.ratio!, 'min', 0.6),
        target('relay', 'relay --mode lock / bare producer >= 0.5', lockFigure.ratio!, 'min', 0.5),
        ...hot.map((h) => target('relay', `${h.name} / spread-out >= 0.5 (within 2x)`, h.ratio!, 'min', 0.5)),
        target('relay', 'hot backlog: 2 relays / 1 relay >= 0.9', hot[1]!.value / hot[0]!.value, 'min', 0.9),
      ],
    };
  } finally {
    await ctx.close();
  }
}

type BenchContext = Awaited<ReturnType<typeof createBenchContext>>;

function newRelay(ctx: BenchContext, mode?: string) {
  return new Relay({
    config: ctx.config,
    pool: ctx.pool,
    logger: createLogger('error', { pretty: false }),
    options: parseRelayOptions({ mode }),
  });
}

/** Drains `events` (inserted first) with a fresh relay: events/s, connect included. */
async function drainRate(ctx: BenchContext, events: DomainEvent[], mode?: string): Promise<number> {
  await insertOutbox(ctx.pool, events, ctx.config.kafka.topics);
  await ctx.pool.query('ANALYZE outbox_event');
  const run = await timed(() => newRelay(ctx, mode).drain());
  if (run.result.published !== events.length)
    throw new Error(`relay published ${run.result.published} of ${events.length}`);
  return perSecond(events.length, run.ms);
}

/**
 * History: N rows drained on an empty table, then the same shape of rows (later versions of the
 * same products) with `history` PUBLISHED rows in front of them, as an outbox not yet cleaned up.
 * Backlog: 1,000 rows at a time, `rounds` times, against the big spread-out drain.
 */
async function flatness(
  ctx: BenchContext,
  quick: boolean,
  log: (m: string) => void,
  big: ReturnType<typeof figure>,
) {
  const n = quick ? 5_000 : 20_000;
  const history = quick ? 50_000 : 1_000_000;
  await ctx.pool.query('DELETE FROM outbox_event');
  await ctx.pool.query('VACUUM outbox_event');
  log(`relay: ${n} events, no history`);
  const none = await drainRate(ctx, viewEvents(n));
  await ctx.pool.query('DELETE FROM outbox_event');
  log(`relay: writing ${history} PUBLISHED rows of history`);
  // Earlier versions (<= 0) of the same 2,000 products, written directly as published.
  await ctx.pool.query(
    `INSERT INTO outbox_event (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, topic,
                               partition_key, payload, status, published_at)
     SELECT gen_random_uuid(), 'product', p::text, -(g / 2000), 'ProductViewed', $2, p::text,
            jsonb_build_object('eventId', gen_random_uuid(), 'eventType', 'ProductViewed',
                               'aggregateType', 'product', 'aggregateId', p::text, 'version', -(g / 2000),
                               'occurredAt', now(), 'payload', jsonb_build_object('productId', p, 'count', 1)),
            'PUBLISHED', now()
       FROM generate_series(0, $1::int - 1) g, LATERAL (SELECT g % 2000 + 1 AS p) x`,
    [history, ctx.config.kafka.topics.catalog],
  );
  await ctx.pool.query('VACUUM ANALYZE outbox_event');
  log(`relay: ${n} events behind ${history} PUBLISHED rows`);
  const withHistory = await drainRate(ctx, viewEvents(n));
  await ctx.pool.query('DELETE FROM outbox_event');
  await ctx.pool.query('VACUUM outbox_event');

  const rounds = quick ? 5 : 20;
  log(`relay: 1,000-row backlog, ${rounds} times`);
  const timings: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const events = viewEvents(1_000).map((e) =>
      createEvent('ProductViewed', Number(e.aggregateId), e.version + r, {
        productId: Number(e.aggregateId),
        count: 1,
      }),
    );
    timings.push(1_000 / (await drainRate(ctx, events)));
  }
  const small = (rounds * 1_000) / timings.reduce((a, b) => a + b, 0);

  const noneF = { name: 'no history', value: none };
  const figures = [
    figure('relay', `${n} events, no history`, none, 'events/s', {
      name: 'bare kafkajs producer',
      value: big.baseline!.value,
    }),
    figure('relay', `${n} events, ${history} PUBLISHED rows of history`, withHistory, 'events/s', noneF),
    figure('relay', `1,000-row backlog (x${rounds}, fresh relay each)`, small, 'events/s', {
      name: 'bare kafkajs producer',
      value: big.baseline!.value,
    }),
  ];
  const bigVsSmall = big.value / small;
  return {
    figures,
    targets: [
      target('relay', 'with history / without >= 0.8 (flat)', figures[1]!.ratio!, 'min', 0.8),
      target(
        'relay',
        `${big.name.replace('outbox -> Kafka, ', '')} backlog / 1,000 backlog >= 0.8 (flat)`,
        bigVsSmall,
        'min',
        0.8,
      ),
    ],
  };
}

/** The same traffic on products 100,001 and up, so it never shares an aggregate with the hot rows. */
function onOtherProducts(event: DomainEvent): DomainEvent {
  const productId = Number(event.aggregateId) + 100_000;
  return createEvent('ProductViewed', productId, event.version, { productId, count: 1 });
}
