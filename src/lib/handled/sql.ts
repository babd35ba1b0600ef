import { sql, type Sql } from '../db/query.js';

/**
 * event_handled: the collector's handlers' idempotency marks, one row per (event id, handler). Owned
 * by the collector (its handlers write and read them, and its chunk statement claims them with the
 * audit rows: collector.claim-events), and pruned by the outbox-cleanup job. Both use these
 * statements, so they live in src/lib: a job imports no other job.
 */

/**
 * Marks events handled by each of `handlers`, returning the (event, handler) pairs that were not
 * marked before: the effects still to apply. One statement for every handler of the batch.
 */
export function claimHandledEvents(handlers: string[], eventIds: string[]): Sql {
  return sql(
    'handled.claim-handled-events',
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
    'handled.select-handled-by',
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
    'handled.select-recently-handled',
    `SELECT event_id::text FROM event_handled
      WHERE handler = $1 AND event_id = ANY($2::uuid[])
        AND handled_at > now() - make_interval(secs => $3::double precision)`,
    [handler, eventIds, seconds],
  );
}

/**
 * Retention: deletes up to `limit` marks handled before `before`, oldest first, skipping locked rows
 * (one short statement per batch).
 */
export function deleteHandled(before: Date, limit: number): Sql {
  return sql(
    'handled.delete-handled',
    `DELETE FROM event_handled e USING (
       SELECT event_id, handler FROM event_handled WHERE handled_at < $1
        ORDER BY handled_at LIMIT $2 FOR UPDATE SKIP LOCKED) old
      WHERE e.event_id = old.event_id AND e.handler = old.handler`,
    [before, limit],
  );
}

export function countHandled(before: Date): Sql {
  return sql(
    'handled.count-handled',
    `SELECT count(*)::bigint AS n FROM event_handled WHERE handled_at < $1`,
    [before],
  );
}
