import type { KafkaMessage } from 'kafkajs';
import { sql, type Sql } from '../../lib/db/query.js';
import type { DomainEvent } from '../../lib/events/index.js';
import type { DailyDelta, ProductDelta } from './fold.js';

/**
 * The collector's statements, next to the code that owns event_handled (the handlers' marks),
 * event_log, product_metrics and product_metrics_daily. Every statement takes arrays (unnest): one round trip per batch.
 */

/**
 * Marks events handled by each of `handlers`, returning the (event, handler) pairs that were not
 * marked before: the effects still to apply. One statement for every handler of the batch.
 */
export function claimHandledEvents(handlers: string[], eventIds: string[]): Sql {
  return sql(
    'collector.claim-handled-events',
    `INSERT INTO event_handled (event_id, handler)
     SELECT e.id, h.name FROM unnest($1::uuid[]) AS e(id) CROSS JOIN unnest($2::text[]) AS h(name)
     ON CONFLICT (event_id, handler) DO NOTHING
     RETURNING event_id::text, handler`,
    [eventIds, handlers],
  );
}

/** Of these events, those `handler` has already handled (its effect happened). */
export function selectHandledBy(handler: string, eventIds: string[]): Sql {
  return sql(
    'collector.select-handled-by',
    `SELECT event_id::text FROM event_handled WHERE handler = $1 AND event_id = ANY($2::uuid[])`,
    [handler, eventIds],
  );
}

/**
 * Of events already handled by `handler`, those first handled within the last `seconds`: a
 * redelivery of these may follow a crash between the commit and Redis, and their ranking marks still
 * exist to guard it.
 */
export function selectRecentlyHandled(handler: string, eventIds: string[], seconds: number): Sql {
  return sql(
    'collector.select-recently-handled',
    `SELECT event_id::text FROM event_handled
      WHERE handler = $1 AND event_id = ANY($2::uuid[])
        AND handled_at > now() - make_interval(secs => $3::double precision)`,
    [handler, eventIds, seconds],
  );
}

export interface LoggedEvent {
  event: DomainEvent;
  topic: string;
  partition: number;
  offset: string;
  /** The raw message, kept so a failing event can be dead-lettered with its original key and value. */
  message: KafkaMessage;
}

/**
 * The audit handler: one event_log row per event (unique on event_id, which is the handler's mark);
 * returns the ids written now. `group` records which group's collector wrote the row.
 */
export function insertEventLog(group: string, logged: LoggedEvent[]): Sql {
  return sql(
    'collector.insert-event-log',
    `INSERT INTO event_log (event_id, consumer, event_type, aggregate_type, aggregate_id, version,
                            topic, partition, "offset", envelope, occurred_at)
     SELECT e.event_id, $1, e.event_type, e.aggregate_type, e.aggregate_id, e.version,
            e.topic, e.partition, e.off, e.envelope, e.occurred_at
     FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
                 $8::int[], $9::bigint[], $10::jsonb[], $11::timestamptz[])
          AS e(event_id, event_type, aggregate_type, aggregate_id, version, topic, partition, off,
               envelope, occurred_at)
     ON CONFLICT (event_id) DO NOTHING
     RETURNING event_id::text`,
    [
      group,
      logged.map((l) => l.event.eventId),
      logged.map((l) => l.event.eventType),
      logged.map((l) => l.event.aggregateType),
      logged.map((l) => l.event.aggregateId),
      logged.map((l) => l.event.version),
      logged.map((l) => l.topic),
      logged.map((l) => l.partition),
      logged.map((l) => l.offset),
      logged.map((l) => JSON.stringify(l.event)),
      logged.map((l) => l.event.occurredAt),
    ],
  );
}

/**
 * Counters add up; versioned state (like count, stock) is replaced only by a newer version, so a
 * late, older event never moves state backwards.
 */
export function upsertProductMetrics(deltas: ProductDelta[]): Sql {
  return sql(
    'collector.upsert-product-metrics',
    `INSERT INTO product_metrics AS m (product_id, view_count, like_count, like_version, sales_count,
                                       sales_amount, stock, stock_version)
     SELECT t.product_id, t.views, COALESCE(t.like_count, 0), t.like_version, t.sales_count,
            t.sales_amount, t.stock, t.stock_version
     FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                 $7::int[], $8::bigint[])
          AS t(product_id, views, like_count, like_version, sales_count, sales_amount, stock, stock_version)
     ORDER BY t.product_id
     ON CONFLICT (product_id) DO UPDATE SET
       view_count   = m.view_count + excluded.view_count,
       sales_count  = m.sales_count + excluded.sales_count,
       sales_amount = m.sales_amount + excluded.sales_amount,
       like_count   = CASE WHEN excluded.like_version > m.like_version THEN excluded.like_count ELSE m.like_count END,
       like_version = GREATEST(m.like_version, excluded.like_version),
       stock        = CASE WHEN excluded.stock_version > m.stock_version THEN excluded.stock ELSE m.stock END,
       stock_version = GREATEST(m.stock_version, excluded.stock_version),
       updated_at   = now()`,
    [
      deltas.map((d) => d.productId),
      deltas.map((d) => d.views),
      deltas.map((d) => d.likeCount),
      deltas.map((d) => d.likeVersion),
      deltas.map((d) => d.salesCount),
      deltas.map((d) => d.salesAmount),
      deltas.map((d) => d.stock),
      deltas.map((d) => d.stockVersion),
    ],
  );
}

export function upsertDailyMetrics(deltas: DailyDelta[]): Sql {
  return sql(
    'collector.upsert-daily-metrics',
    `INSERT INTO product_metrics_daily AS d (metric_date, product_id, view_count, like_count,
                                             sales_count, sales_amount)
     SELECT * FROM unnest($1::date[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
     ORDER BY 1, 2
     ON CONFLICT (metric_date, product_id) DO UPDATE SET
       view_count   = d.view_count + excluded.view_count,
       like_count   = d.like_count + excluded.like_count,
       sales_count  = d.sales_count + excluded.sales_count,
       sales_amount = d.sales_amount + excluded.sales_amount,
       updated_at   = now()`,
    [
      deltas.map((d) => d.date),
      deltas.map((d) => d.productId),
      deltas.map((d) => d.views),
      deltas.map((d) => d.likes),
      deltas.map((d) => d.salesCount),
      deltas.map((d) => d.salesAmount),
    ],
  );
}
