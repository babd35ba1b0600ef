import type { KafkaMessage } from 'kafkajs';
import { plainArray, sql, type Sql } from '../../lib/db/query.js';
import type { DomainEvent } from '../../lib/events/index.js';
import type { DailyDelta, ProductDelta } from './fold.js';

/**
 * The collector's statements, next to the code that owns event_log, product_metrics and
 * product_metrics_daily (the handlers' marks in event_handled: src/lib/handled/sql.ts). Every statement takes arrays (unnest): a chunk's
 * transaction is two round trips (marks and audit rows, then the metrics fold) besides BEGIN/COMMIT.
 */

export interface LoggedEvent {
  event: DomainEvent;
  /** The envelope as received (the message value's text): what the audit row stores. */
  envelope: string;
  topic: string;
  partition: number;
  offset: string;
  /** The raw message, kept so a failing event can be dead-lettered with its original key and value. */
  message: KafkaMessage;
}

/**
 * Separates envelopes in one text parameter: valid JSON can never contain it (a control character
 * outside a string is not whitespace, inside one it must be escaped), and one plain string costs
 * neither side the per-element quoting of a text[] parameter.
 */
const ENVELOPE_SEPARATOR = '\x1e'; // chr(30) in SQL

/**
 * A chunk's marks in one statement (one round trip): `handlers` (metrics, ranking: any, none) claim
 * (event id, handler) in event_handled, and when `audit` is given the audit handler writes the
 * event_log rows it does not have (its primary key event_id is its mark; `audit.group` records which
 * group's collector wrote the row). Returns, per handler ('audit' for the event_log rows written
 * now), the events that are new to it: `ids`, or null when that is every event of `logged`.
 */
export function claimEvents(
  handlers: string[],
  logged: LoggedEvent[],
  audit: { group: string } | undefined,
): Sql {
  const log = audit ? logged : [];
  return sql(
    'collector.claim-events',
    `WITH claimed AS (
       INSERT INTO event_handled (event_id, handler)
       SELECT e.id, h.name FROM unnest($1::uuid[]) AS e(id) CROSS JOIN unnest($2::text[]) AS h(name)
       ON CONFLICT (event_id, handler) DO NOTHING
       RETURNING event_id, handler
     ), audited AS (
       INSERT INTO event_log (event_id, consumer, event_type, aggregate_type, aggregate_id, version,
                              topic, partition, "offset", envelope, occurred_at)
       SELECT e.event_id, $3, e.event_type, e.aggregate_type, e.aggregate_id, e.version,
              e.topic, e.partition, e.off, e.envelope, e.occurred_at
       FROM unnest($1::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[],
                   $9::int[], $10::bigint[], string_to_array($11::text, chr(30))::json[],
                   $12::timestamptz[])
            AS e(event_id, event_type, aggregate_type, aggregate_id, version, topic, partition, off,
                 envelope, occurred_at)
       WHERE $3::text IS NOT NULL
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id
     )
     -- Per handler, how many events are new, and which only when not all of them are (the common
     -- case, a chunk of new events, then parses three rows instead of one per event and handler).
     SELECT handler, count(*)::int AS n,
            CASE WHEN count(*) < cardinality($1::uuid[]) THEN array_agg(event_id::text) END AS ids
       FROM (SELECT event_id, handler FROM claimed UNION ALL SELECT event_id, 'audit' FROM audited) AS fresh
      GROUP BY handler`,
    // Every value here was validated (uuid, known names, numeric ids, ISO timestamps) or is a number:
    // plain array literals; the envelopes travel as one separator-joined text.
    [
      plainArray(logged.map((l) => l.event.eventId)),
      handlers,
      audit?.group ?? null,
      plainArray(log.map((l) => l.event.eventType)),
      plainArray(log.map((l) => l.event.aggregateType)),
      plainArray(log.map((l) => l.event.aggregateId)),
      plainArray(log.map((l) => l.event.version)),
      plainArray(log.map((l) => l.topic)),
      plainArray(log.map((l) => l.partition)),
      plainArray(log.map((l) => l.offset)),
      log.map((l) => l.envelope).join(ENVELOPE_SEPARATOR),
      plainArray(log.map((l) => l.event.occurredAt)),
    ],
  );
}

/**
 * The metrics handler's fold, both tables in one statement (one round trip): product_metrics rows
 * locked in product order, then the daily rows in (day, product) order. Counters add up; versioned state (like count, stock) is
 * replaced only by a newer version, so a late, older event never moves state backwards.
 */
export function upsertMetrics(products: ProductDelta[], daily: DailyDelta[]): Sql {
  return sql(
    'collector.upsert-metrics',
    `WITH totals AS (
       INSERT INTO product_metrics AS m (product_id, view_count, like_count, like_version, sales_count,
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
         updated_at   = now()
       RETURNING 1
     ), days AS (
       INSERT INTO product_metrics_daily AS d (metric_date, product_id, view_count, like_count,
                                               sales_count, sales_amount)
       SELECT * FROM unnest($9::date[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])
       ORDER BY 1, 2
       ON CONFLICT (metric_date, product_id) DO UPDATE SET
         view_count   = d.view_count + excluded.view_count,
         like_count   = d.like_count + excluded.like_count,
         sales_count  = d.sales_count + excluded.sales_count,
         sales_amount = d.sales_amount + excluded.sales_amount,
         updated_at   = now()
       RETURNING 1
     )
     -- Read in this order, product_metrics is written (and its rows locked) before the daily rows,
     -- as every other writer of both does.
     SELECT (SELECT count(*) FROM totals) AS products, (SELECT count(*) FROM days) AS days`,
    [
      plainArray(products.map((d) => d.productId)),
      plainArray(products.map((d) => d.views)),
      plainArray(products.map((d) => d.likeCount)),
      plainArray(products.map((d) => d.likeVersion)),
      plainArray(products.map((d) => d.salesCount)),
      plainArray(products.map((d) => d.salesAmount)),
      plainArray(products.map((d) => d.stock)),
      plainArray(products.map((d) => d.stockVersion)),
      plainArray(daily.map((d) => d.date)),
      plainArray(daily.map((d) => d.productId)),
      plainArray(daily.map((d) => d.views)),
      plainArray(daily.map((d) => d.likes)),
      plainArray(daily.map((d) => d.salesCount)),
      plainArray(daily.map((d) => d.salesAmount)),
    ],
  );
}
