import { sql, type Sql } from '../db/query.js';

/**
 * event_inbox: one row per event, carrying the set of the collector's handlers that applied it
 * (`handlers`) and, when the audit handler did, the audit columns (migrations/014_collector_inbox.sql;
 * event_log is the view of the audited rows). Owned by the collector (its chunk statement claims the
 * database handlers and writes the audit columns: collector.claim-events; the webhook handler adds
 * itself once delivered) and pruned by the outbox-cleanup job. Both use these statements, so they live
 * in src/lib: a job imports no other job.
 */

/**
 * Adds `handlers` to these events' inbox rows (inserting rows the events do not have yet), returning
 * the (event, handler) pairs that were not there before: the effects still to apply. One statement;
 * the row lock of ON CONFLICT DO UPDATE makes two concurrent writers add a handler once.
 */
export function claimHandledEvents(handlers: string[], eventIds: string[]): Sql {
  return sql(
    'handled.claim-handled-events',
    `WITH written AS (
       INSERT INTO event_inbox AS i (event_id, handlers)
       SELECT e.id, $2::text[] FROM unnest($1::uuid[]) AS e(id) ORDER BY e.id
       ON CONFLICT (event_id) DO UPDATE SET
         handlers = i.handlers || ARRAY(SELECT h FROM unnest(excluded.handlers) AS h WHERE h <> ALL (i.handlers)),
         added = cardinality(ARRAY(SELECT h FROM unnest(excluded.handlers) AS h WHERE h <> ALL (i.handlers)))
       WHERE NOT i.handlers @> excluded.handlers
       RETURNING event_id, handlers[cardinality(handlers) - coalesce(added, cardinality(handlers)) + 1:] AS fresh
     )
     SELECT w.event_id::text, h AS handler FROM written w, unnest(w.fresh) AS h`,
    [eventIds, handlers],
  );
}

/** Of these events, those `handler` has already handled (its effect happened). */
export function selectHandledBy(handler: string, eventIds: string[]): Sql {
  return sql(
    'handled.select-handled-by',
    `SELECT event_id::text FROM event_inbox WHERE $1 = ANY (handlers) AND event_id = ANY($2::uuid[])`,
    [handler, eventIds],
  );
}

/**
 * Retention: deletes up to `limit` inbox rows first handled before `before` that carry no audit row
 * (an audited row is the audit log: it stays, and its marks with it), oldest first, skipping locked
 * rows (one short statement per batch; event_inbox_unaudited_handled_at_idx holds exactly these rows).
 */
export function deleteHandled(before: Date, limit: number): Sql {
  return sql(
    'handled.delete-handled',
    `DELETE FROM event_inbox e USING (
       SELECT event_id FROM event_inbox
        WHERE handled_at < $1 AND NOT ('audit' = ANY (handlers))
        ORDER BY handled_at LIMIT $2 FOR UPDATE SKIP LOCKED) old
      WHERE e.event_id = old.event_id`,
    [before, limit],
  );
}

export function countHandled(before: Date): Sql {
  return sql(
    'handled.count-handled',
    `SELECT count(*)::bigint AS n FROM event_inbox WHERE handled_at < $1 AND NOT ('audit' = ANY (handlers))`,
    [before],
  );
}
