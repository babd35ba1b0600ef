-- Issue 14: idempotency belongs to the handler (the effect), not to the Kafka consumer group.
--
-- event_handled becomes (event_id, handler). Under the old schema one transaction per batch wrote a
-- group's mark, its audit row and its metrics, and the live ranking followed right after the commit;
-- so ANY group's mark means the metrics and ranking effects happened: each old mark becomes a
-- 'metrics' and a 'ranking' mark (first handled_at kept, which keeps the ranking's "recent duplicate"
-- window right). 'audit' needs no mark: event_log's own unique key on event_id is its mark.
ALTER TABLE event_handled RENAME TO event_handled_by_group;
ALTER INDEX event_handled_handled_at_idx RENAME TO event_handled_by_group_handled_at_idx;

CREATE TABLE event_handled (
  event_id   uuid NOT NULL,
  handler    text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, handler)
);

INSERT INTO event_handled (event_id, handler, handled_at)
SELECT g.event_id, h.handler, min(g.handled_at)
  FROM event_handled_by_group g CROSS JOIN (VALUES ('metrics'), ('ranking')) AS h(handler)
 GROUP BY g.event_id, h.handler;

DROP TABLE event_handled_by_group;
CREATE INDEX event_handled_handled_at_idx ON event_handled (handled_at);

-- event_log: one audit row per event. Groups that each audited an event wrote the same envelope:
-- the first row (lowest id) is kept. `consumer` stays: the group whose collector wrote the row.
DELETE FROM event_log l USING event_log k WHERE k.event_id = l.event_id AND k.id < l.id;
ALTER TABLE event_log DROP CONSTRAINT event_log_event_key;
ALTER TABLE event_log ADD CONSTRAINT event_log_event_key UNIQUE (event_id);
COMMENT ON COLUMN event_log.consumer IS 'the consumer group whose collector wrote the audit row';
