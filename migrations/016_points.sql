-- Loyalty points (issue 25): the collector's `points` handler earns a user points for a paid order
-- (OrderPaid, POINTS_RATE of the amount, integer, rounded down) and takes them back when that order's
-- payment is refunded (PaymentRefunded). A read model, like product_metrics: rebuilt from event_log
-- (`commerce rebuild --target points`), checked against orders and payments (`commerce verify`).
--
-- points_ledger: one entry per event the handler applied, whatever group delivered it. event_id is
-- unique, and so is (order_id, reason): an order earns once and is refunded once, so the ledger itself
-- refuses a second application (the inbox mark in event_inbox is the first filter). A refund's delta
-- is minus what its order earned (0 for a late charge refunded on an order that never was PAID).
CREATE TABLE points_ledger (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 100),
  order_id   bigint NOT NULL,
  event_id   uuid NOT NULL,
  delta      bigint NOT NULL,
  reason     text NOT NULL CHECK (reason IN ('order-paid', 'payment-refunded')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT points_ledger_event_key UNIQUE (event_id),
  CONSTRAINT points_ledger_order_reason_key UNIQUE (order_id, reason)
);
-- A user's last entries (GET /api/v1/users/me/points).
CREATE INDEX points_ledger_user_idx ON points_ledger (user_id, id DESC);

-- points_balances: a table, not a view over the ledger. The balance is read on every API request and
-- written once per paid or refunded order (in the statement that writes the ledger entries): one index
-- probe per read instead of summing every entry the user ever had.
CREATE TABLE points_balances (
  user_id    text PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 100),
  balance    bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
