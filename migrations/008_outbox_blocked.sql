-- The claim walks a bounded window of PENDING rows in id order (claimEvents in src/lib/outbox/sql.ts). A row stuck
-- behind a FAILED row, or behind a row waiting for its retry backoff, would sit at the head of every
-- window and, with thousands of later rows of its aggregate, fill it: every relay would claim nothing.
-- The claim therefore flags such rows `blocked`; they leave the walk's index until a row of their
-- aggregate is published, `outbox retry` resets the row in front, or the relay's sweep finds nothing
-- stuck in front of them anymore. The flag is a scheduling hint: order never depends on it.
-- (ADD COLUMN with a constant default is metadata only; the indexes are built in the migration's
-- transaction, hence no CONCURRENTLY: on a large outbox, run this in a quiet window.)
ALTER TABLE outbox_event ADD COLUMN blocked boolean NOT NULL DEFAULT false;
-- The claim's walk: PENDING rows not blocked, in id (= commit) order. Replaces migration 007's index.
CREATE INDEX outbox_event_claim_window_idx ON outbox_event (id) WHERE status = 'PENDING' AND NOT blocked;
DROP INDEX outbox_event_pending_id_idx;
-- Unblocking by aggregate (on publish, on retry, in the sweep) reads only the blocked rows.
CREATE INDEX outbox_event_blocked_idx ON outbox_event (aggregate_type, aggregate_id, id) WHERE blocked;
