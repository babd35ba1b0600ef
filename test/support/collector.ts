import type { Message } from 'kafkajs';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { eventHeaders } from '../../src/lib/kafka/event-headers.js';
import { encodeEvent, topicFor, type DomainEvent } from '../../src/lib/events/index.js';
import { createLogger } from '../../src/lib/log.js';
import { startCollector, type CollectorOptions } from '../../src/jobs/collector/collector.js';
import type { TestContext } from './context.js';

/** Publishes events as the relay does: idempotent producer, keyed by aggregate id, event headers. */
export async function publish(
  ctx: TestContext,
  events: DomainEvent[],
  raw: Array<Message & { topic: string }> = [],
) {
  const producer = createIdempotentProducer(ctx.kafka);
  await producer.connect();
  try {
    for (const e of events) {
      await producer.send({
        topic: topicFor(e, ctx.config.kafka.topics),
        ...SEND_ACKS_ALL,
        messages: [{ key: e.aggregateId, value: encodeEvent(e), headers: eventHeaders(e) }],
      });
    }
    for (const { topic, ...message } of raw)
      await producer.send({ topic, ...SEND_ACKS_ALL, messages: [message] });
  } finally {
    await producer.disconnect();
  }
}

/** Runs the collector in this process against the context's services. */
export function startTestCollector(
  ctx: TestContext,
  options: CollectorOptions = {},
  deps: { redis?: Redis } = {},
) {
  return startCollector(
    {
      config: ctx.config,
      pool: ctx.pool,
      redis: deps.redis ?? ctx.redis,
      kafka: ctx.kafka,
      logger: createLogger('error', { pretty: false }),
    },
    { sessionTimeoutMs: 6_000, backoff: { baseMs: 20, maxMs: 100 }, ...options },
  );
}

/**
 * A handler that keeps failing, for real: PostgreSQL refuses the audit row (the audit columns of the
 * event's event_inbox row, inserted or filled in) of these
 * events, or of every event, with `message`, so the collector's database step fails and its
 * transaction rolls back. `attempts()` counts the refusals (a sequence: it survives the rollbacks).
 * The collector's group must run the audit handler.
 */
export async function refuseEvents(pool: pg.Pool, eventIds: string[] | 'all', message: string) {
  const uuid = /^[0-9a-f-]{36}$/;
  if (eventIds !== 'all' && !eventIds.every((id) => uuid.test(id))) throw new Error('not event ids');
  const these = eventIds === 'all' ? 'true' : `NEW.event_id = ANY ('{${eventIds.join(',')}}'::uuid[])`;
  const args = `'${message.replaceAll("'", "''")}'`;
  await pool.query(`
    CREATE SEQUENCE test_refusals;
    CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM nextval('test_refusals'); RAISE EXCEPTION USING MESSAGE = TG_ARGV[0]; END $$;
    CREATE TRIGGER test_refuse_event BEFORE INSERT ON event_inbox FOR EACH ROW
      WHEN (NEW.envelope IS NOT NULL AND ${these}) EXECUTE FUNCTION test_refuse_event(${args});
    CREATE TRIGGER test_refuse_event_update BEFORE UPDATE ON event_inbox FOR EACH ROW
      WHEN (OLD.envelope IS NULL AND NEW.envelope IS NOT NULL AND ${these})
      EXECUTE FUNCTION test_refuse_event(${args});`);
  return {
    attempts: async (): Promise<number> =>
      (await pool.query(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM test_refusals`))
        .rows[0].n,
    remove: () =>
      pool.query(`DROP TRIGGER test_refuse_event ON event_inbox;
                  DROP TRIGGER test_refuse_event_update ON event_inbox; DROP FUNCTION test_refuse_event();
                  DROP SEQUENCE test_refusals;`),
  };
}

/** Committed offset per partition of the group (-1 when none), summed over a topic's partitions. */
export async function committedOffsets(ctx: TestContext, groupId: string, topic: string): Promise<number[]> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return result!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
}

export async function endOffsets(ctx: TestContext, topic: string): Promise<number[]> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
  } finally {
    await admin.disconnect();
  }
}

export async function metricsRow(ctx: TestContext, productId: number) {
  const { rows } = await ctx.pool.query(
    `SELECT view_count::int, like_count::int, like_version::int, sales_count::int, sales_amount::int,
            stock, stock_version::int FROM product_metrics WHERE product_id = $1`,
    [productId],
  );
  return rows[0];
}

/** The ids of a consumer group's current members (what the coordinator says now). */
export async function groupMembers(ctx: TestContext, groupId: string): Promise<string[]> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]!.members.map((m) => m.memberId);
  } finally {
    await admin.disconnect();
  }
}
