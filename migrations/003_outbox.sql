-- The transactional outbox: written in the same transaction as the domain change, moved to Kafka
-- by `commerce relay run`.
CREATE TABLE outbox_event (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id         uuid NOT NULL,
  aggregate_type   text NOT NULL,
  aggregate_id     text NOT NULL,
  aggregate_version bigint NOT NULL,
  event_type       text NOT NULL,
  topic            text NOT NULL,
  partition_key    text NOT NULL,
  -- The whole event envelope as published (eventId, eventType, aggregate*, version, occurredAt, payload).
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'PUBLISHED', 'FAILED')),
  attempt_count    integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  locked_by        text,
  locked_until     timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  published_at     timestamptz,
  CONSTRAINT outbox_event_event_id_key UNIQUE (event_id),
  -- One version per aggregate: two events can never claim the same place in an aggregate's history.
  CONSTRAINT outbox_event_aggregate_version_key UNIQUE (aggregate_type, aggregate_id, aggregate_version),
  CONSTRAINT outbox_event_published_at CHECK ((status = 'PUBLISHED') = (published_at IS NOT NULL))
);
-- Claiming: due PENDING rows in id (= commit) order.
CREATE INDEX outbox_event_claim_idx ON outbox_event (next_attempt_at, id) WHERE status = 'PENDING';
-- Ordering: "is there an earlier unpublished event of this aggregate?"
CREATE INDEX outbox_event_unpublished_aggregate_idx ON outbox_event (aggregate_type, aggregate_id, id)
  WHERE status <> 'PUBLISHED';
-- Cleanup of old published rows.
CREATE INDEX outbox_event_published_idx ON outbox_event (published_at) WHERE status = 'PUBLISHED';

-- Wake relays as soon as new rows commit (NOTIFY is delivered at commit); polling stays as a fallback.
CREATE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_event', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_notify();
