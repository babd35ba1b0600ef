-- Unpaid orders expire (issue 25). An order's payment window closes at expires_at (set at creation
-- to now() + ORDER_PAYMENT_TTL); `orders expire` then gives its stock back and marks it EXPIRED,
-- unless a payment is in flight (REQUESTED/PENDING): the gateway may still charge it.
--
-- The default is for rows written without it: orders placed by an API of the previous release
-- during a rolling deploy, and existing orders (now() is stable, so every existing row gets the same
-- value, without a table rewrite): unpaid carts from before this migration get a full 30-minute
-- window from the deploy, never an immediate expiry.
ALTER TABLE orders
  ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now() + interval '30 minutes',
  DROP CONSTRAINT orders_status_check,
  ADD CONSTRAINT orders_status_check CHECK (status IN ('CREATED', 'PAID', 'CANCELLED', 'EXPIRED'));

-- What the expiry job scans: unpaid orders by deadline (small: only CREATED rows are in it).
CREATE INDEX orders_unpaid_expiry_idx ON orders (expires_at, id) WHERE status = 'CREATED';
