-- Payments go through an external gateway (issue 16): a payment is REQUESTED (row + outbox event
-- committed), PENDING once the gateway accepted it, then SUCCEEDED or FAILED as the gateway settles
-- it (callback or `payments recover`). A SUCCEEDED payment of a cancelled order is REFUND_REQUESTED
-- until the gateway confirms the refund (REFUNDED). Payments made before this migration were
-- settled in-process: COMPLETED becomes SUCCEEDED.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ALTER COLUMN status DROP DEFAULT;
UPDATE payments SET status = 'SUCCEEDED' WHERE status = 'COMPLETED';
ALTER TABLE payments
  ADD CONSTRAINT payments_status_check
    CHECK (status IN ('REQUESTED', 'PENDING', 'SUCCEEDED', 'FAILED', 'REFUND_REQUESTED', 'REFUNDED')),
  ALTER COLUMN status SET DEFAULT 'REQUESTED',
  -- The gateway's idempotency key: a retry or a recovery resend can never charge twice. A uuid, so
  -- two databases sharing one gateway account never collide.
  ADD COLUMN payment_key uuid NOT NULL DEFAULT gen_random_uuid(),
  ADD COLUMN transaction_key text,
  ADD COLUMN failure_reason text,
  -- The last gateway call that did not get an answer (timeout, breaker open...): for the operator.
  ADD COLUMN last_error text,
  ADD COLUMN gateway_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN settled_at timestamptz,
  ADD COLUMN refunded_at timestamptz,
  ADD CONSTRAINT payments_payment_key UNIQUE (payment_key);

-- A FAILED payment leaves the order payable, so an order may have several payments; at most one of
-- them is open or succeeded (the pay route also serializes on the order row; this is the backstop).
ALTER TABLE payments DROP CONSTRAINT payments_order_key;
CREATE UNIQUE INDEX payments_one_live_per_order ON payments (order_id)
  WHERE status IN ('REQUESTED', 'PENDING', 'SUCCEEDED', 'REFUND_REQUESTED', 'REFUNDED');
CREATE INDEX payments_order_idx ON payments (order_id, id);
-- Recovery: unsettled payments, oldest first.
CREATE INDEX payments_unsettled_idx ON payments (updated_at, id)
  WHERE status IN ('REQUESTED', 'PENDING', 'REFUND_REQUESTED');
