import type { KafkaMessage } from 'kafkajs';
import { plainArray, sql, type Sql } from '../../lib/db/query.js';
import type { DomainEvent } from '../../lib/events/index.js';
import type { DailyDelta, ProductDelta } from './fold.js';

/**
 * The collector's statements, next to the code that owns event_inbox (its audit columns and the
 * handlers' marks; the webhook's and retention's statements: src/lib/handled/sql.ts), product_metrics
 * and product_metrics_daily. Every statement takes arrays (unnest): a chunk's transaction is two round
 * trips (the inbox claim, then the metrics fold) besides BEGIN/COMMIT.
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
 * A chunk's claim in one statement (one round trip): the group's database handlers (`handlers`: audit,
 * metrics, ranking: any of them) are added to each event's inbox row, which is inserted if the event
 * has none (see migrations/014_collector_inbox.sql). With 'audit' among them, the audit columns are
 * written too (`audit.group`: which group's collector wrote them). A row locked by INSERT ... ON
 * CONFLICT DO UPDATE is the latest committed one, so of two groups claiming one handler for one event
 * at once, exactly one appends it; `added` says how many handlers this write appended (NULL: the row
 * is new), so the statement returns what is new to each handler. Rows that already have every handler
 * in the statement's snapshot (duplicates) are not written, nor locked.
 *
 * Returns one row per handler with events new to it (`ids`, or null when that is every event of
 * `logged`), and, when `rankedWithinSeconds` is given, a row 'ranked-recently' with the events the
 * ranking handler had applied before and within that many seconds (their Redis marks still exist);
 * pass it only when 'ranking' is among `handlers`. An event another transaction ranked while this
 * statement ran counts as ranked recently: it was ranked moments ago.
 */
export function claimEvents(
  handlers: string[],
  logged: LoggedEvent[],
  audit: { group: string } | undefined,
  rankedWithinSeconds: number | null,
): Sql {
  const log = audit ? logged : [];
  return sql(
    'collector.claim-events',
    `WITH e AS (
       SELECT * FROM unnest($1::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[],
                            $9::int[], $10::bigint[], string_to_array($11::text, chr(30))::json[],
                            $12::timestamptz[])
            AS e(event_id, event_type, aggregate_type, aggregate_id, version, topic, partition, off,
                 envelope, occurred_at)
     ), seen AS (
       -- A join, not "event_id = ANY ($1)": the planner sees the 500 events against the table (index
       -- probes on a large table), whatever generic plan the prepared statement holds.
       SELECT i.event_id, i.handlers, i.ranked_at FROM e JOIN event_inbox i ON i.event_id = e.event_id
     ), written AS (
       INSERT INTO event_inbox AS i (event_id, handlers, ranked_at, consumer, event_type, aggregate_type,
                                     aggregate_id, version, topic, partition, "offset", envelope,
                                     occurred_at, received_at)
       SELECT e.event_id, $2::text[], CASE WHEN 'ranking' = ANY ($2::text[]) THEN now() END,
              $3, e.event_type, e.aggregate_type, e.aggregate_id, e.version, e.topic, e.partition, e.off,
              e.envelope, e.occurred_at, CASE WHEN $3::text IS NOT NULL THEN now() END
         FROM e LEFT JOIN seen s ON s.event_id = e.event_id
        WHERE s.event_id IS NULL OR NOT s.handlers @> $2::text[]
        ORDER BY e.event_id
       ON CONFLICT (event_id) DO UPDATE SET
         handlers = i.handlers || ARRAY(SELECT h FROM unnest(excluded.handlers) AS h WHERE h <> ALL (i.handlers)),
         added = cardinality(ARRAY(SELECT h FROM unnest(excluded.handlers) AS h WHERE h <> ALL (i.handlers))),
         ranked_at = coalesce(i.ranked_at, excluded.ranked_at),
         consumer = CASE WHEN 'audit' = ANY (i.handlers) THEN i.consumer ELSE excluded.consumer END,
         event_type = CASE WHEN 'audit' = ANY (i.handlers) THEN i.event_type ELSE excluded.event_type END,
         aggregate_type = CASE WHEN 'audit' = ANY (i.handlers) THEN i.aggregate_type ELSE excluded.aggregate_type END,
         aggregate_id = CASE WHEN 'audit' = ANY (i.handlers) THEN i.aggregate_id ELSE excluded.aggregate_id END,
         version = CASE WHEN 'audit' = ANY (i.handlers) THEN i.version ELSE excluded.version END,
         topic = CASE WHEN 'audit' = ANY (i.handlers) THEN i.topic ELSE excluded.topic END,
         partition = CASE WHEN 'audit' = ANY (i.handlers) THEN i.partition ELSE excluded.partition END,
         "offset" = CASE WHEN 'audit' = ANY (i.handlers) THEN i."offset" ELSE excluded."offset" END,
         envelope = CASE WHEN 'audit' = ANY (i.handlers) THEN i.envelope ELSE excluded.envelope END,
         occurred_at = CASE WHEN 'audit' = ANY (i.handlers) THEN i.occurred_at ELSE excluded.occurred_at END,
         received_at = CASE WHEN 'audit' = ANY (i.handlers) THEN i.received_at ELSE excluded.received_at END
       WHERE NOT i.handlers @> excluded.handlers
       RETURNING event_id, handlers[cardinality(handlers) - coalesce(added, cardinality(handlers)) + 1:] AS fresh
     ), fresh AS (
       SELECT h AS handler, w.event_id FROM written w, unnest(w.fresh) AS h
     ), ranked AS (
       -- Ranked before this statement and not by it: recently, by the snapshot's row, or by a
       -- transaction that added 'ranking' after the snapshot was taken (moments ago).
       SELECT e.event_id FROM e LEFT JOIN seen s ON s.event_id = e.event_id
        WHERE (s.ranked_at IS NULL OR s.ranked_at > now() - make_interval(secs => $13::double precision))
          AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.event_id = e.event_id AND f.handler = 'ranking')
     )
     -- Per handler, how many events are new, and which only when not all of them are (the common
     -- case, a chunk of new events, then parses a few rows instead of one per event and handler).
     SELECT handler, count(*)::int AS n,
            CASE WHEN count(*) < cardinality($1::uuid[]) THEN array_agg(event_id::text) END AS ids
       FROM fresh GROUP BY handler
     UNION ALL
     SELECT 'ranked-recently', count(*)::int, array_agg(event_id::text)
       FROM ranked WHERE $13::double precision IS NOT NULL
     HAVING count(*) > 0`,
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
      rankedWithinSeconds,
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
