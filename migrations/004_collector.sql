-- The collector's tables: idempotency marks, the audit log and per-product metrics.
CREATE TABLE event_handled (
  event_id   uuid NOT NULL,
  consumer   text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, consumer)
);
CREATE INDEX event_handled_handled_at_idx ON event_handled (handled_at);

CREATE TABLE event_log (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id       uuid NOT NULL,
  consumer       text NOT NULL,
  event_type     text NOT NULL,
  aggregate_type text NOT NULL,
  aggregate_id   text NOT NULL,
  version        bigint NOT NULL,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  "offset"       bigint NOT NULL,
  envelope       jsonb NOT NULL,
  occurred_at    timestamptz NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT event_log_event_key UNIQUE (consumer, event_id)
);
CREATE INDEX event_log_aggregate_idx ON event_log (aggregate_type, aggregate_id, version);
CREATE INDEX event_log_received_at_idx ON event_log (received_at);

-- Current totals per product. Versioned state (stock, like count) is only replaced by a newer version.
CREATE TABLE product_metrics (
  product_id    bigint PRIMARY KEY,
  like_count    bigint NOT NULL DEFAULT 0,
  like_version  bigint NOT NULL DEFAULT 0,
  view_count    bigint NOT NULL DEFAULT 0,
  sales_count   bigint NOT NULL DEFAULT 0,
  sales_amount  bigint NOT NULL DEFAULT 0,
  stock         integer,
  stock_version bigint NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Per product and day (in the configured TIMEZONE): the input of the weekly/monthly rankings.
CREATE TABLE product_metrics_daily (
  metric_date  date NOT NULL,
  product_id   bigint NOT NULL,
  view_count   bigint NOT NULL DEFAULT 0,
  like_count   bigint NOT NULL DEFAULT 0,
  sales_count  bigint NOT NULL DEFAULT 0,
  sales_amount bigint NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (metric_date, product_id)
);
