-- Issue 23: the collector's inbox. Per event the collector wrote three rows: the audit row (event_log)
-- and one idempotency mark per database handler (event_handled: metrics, ranking), each with its own
-- index entries. Measured on 500-event claims (EXPLAIN (ANALYZE, WAL, BUFFERS)): 11 WAL records and 31
-- buffer accesses per event; one row carrying the set of handlers that applied the event: 3 and 9.
--
-- event_inbox: one row per event, whichever groups deliver it. `handlers` is the set of handlers that
-- applied the event, in the order they did (a group appends those it applies, in the same statement
-- that checks which are new: INSERT ... ON CONFLICT DO UPDATE, so two groups never both apply one
-- effect); `added` says how many of them the row's last write appended (NULL: all, the row was just
-- inserted), which is how that statement returns the handlers new to the event. The audit columns
-- (consumer .. received_at) are filled exactly when 'audit' is in the set (the audit handler's effect);
-- event_log becomes a view of the audited rows, so the audit log reads as before.
--
-- Existing data is migrated, not read in two places: every event_log row becomes an inbox row with
-- 'audit' plus the marks its event had, every marked event without an audit row an inbox row without
-- the audit columns. This rewrites event_log once (proportional to its size); event_handled is dropped.
ALTER TABLE event_log RENAME TO event_inbox;
ALTER INDEX event_log_pkey RENAME TO event_inbox_pkey;
ALTER INDEX event_log_received_at_idx RENAME TO event_inbox_received_at_idx;
COMMENT ON COLUMN event_inbox.consumer IS 'the consumer group whose collector applied the audit handler';

ALTER TABLE event_inbox
  ADD COLUMN handlers   text[],
  ADD COLUMN added      smallint,
  ADD COLUMN handled_at timestamptz,
  ADD COLUMN ranked_at  timestamptz;

-- handled_at: when the event was first handled (retention, the metrics cut-off); ranked_at: when the
-- ranking handler applied it (its Redis marks live RANKING_MARK_TTL from then). From the old marks.
WITH marks AS (
  SELECT event_id,
         array_agg(handler ORDER BY handled_at, handler) AS handlers,
         min(handled_at) AS first_at,
         min(handled_at) FILTER (WHERE handler = 'ranking') AS ranked_at
    FROM event_handled GROUP BY event_id
)
UPDATE event_inbox i
   SET handlers   = '{audit}'::text[] || coalesce(m.handlers, '{}'),
       handled_at = least(i.received_at, m.first_at),
       ranked_at  = m.ranked_at
  FROM event_inbox i2 LEFT JOIN marks m USING (event_id)
 WHERE i2.event_id = i.event_id;

-- Marked events the audit handler never wrote (no group ran it, or it is behind).
ALTER TABLE event_inbox
  ALTER COLUMN consumer DROP NOT NULL,
  ALTER COLUMN event_type DROP NOT NULL,
  ALTER COLUMN aggregate_type DROP NOT NULL,
  ALTER COLUMN aggregate_id DROP NOT NULL,
  ALTER COLUMN version DROP NOT NULL,
  ALTER COLUMN topic DROP NOT NULL,
  ALTER COLUMN partition DROP NOT NULL,
  ALTER COLUMN "offset" DROP NOT NULL,
  ALTER COLUMN envelope DROP NOT NULL,
  ALTER COLUMN occurred_at DROP NOT NULL,
  ALTER COLUMN received_at DROP NOT NULL,
  ALTER COLUMN received_at DROP DEFAULT;

INSERT INTO event_inbox (event_id, handlers, handled_at, ranked_at)
SELECT h.event_id, array_agg(h.handler ORDER BY h.handled_at, h.handler), min(h.handled_at),
       min(h.handled_at) FILTER (WHERE h.handler = 'ranking')
  FROM event_handled h
 WHERE NOT EXISTS (SELECT 1 FROM event_inbox i WHERE i.event_id = h.event_id)
 GROUP BY h.event_id;

DROP TABLE event_handled;

ALTER TABLE event_inbox
  ALTER COLUMN handlers SET NOT NULL,
  ALTER COLUMN handled_at SET NOT NULL,
  ALTER COLUMN handled_at SET DEFAULT now(),
  ADD CONSTRAINT event_inbox_audit_check
    CHECK (('audit' = ANY (handlers)) = (envelope IS NOT NULL AND received_at IS NOT NULL));

-- Retention deletes the rows no audit handler wrote, once older than EVENT_HANDLED_RETENTION (an audit
-- row is kept, and with it its marks). Only those rows are in this index: an audited insert (the
-- common one) writes no entry.
CREATE INDEX event_inbox_unaudited_handled_at_idx ON event_inbox (handled_at)
  WHERE NOT ('audit' = ANY (handlers));

-- The audit log as it always read: the rows the audit handler wrote.
CREATE VIEW event_log AS
SELECT id, event_id, consumer, event_type, aggregate_type, aggregate_id, version, topic, partition,
       "offset", envelope, occurred_at, received_at
  FROM event_inbox WHERE 'audit' = ANY (handlers);
