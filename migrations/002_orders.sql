-- Orders, their items and payments. Item prices are copied from the product at order time.
CREATE TABLE orders (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id         text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 100),
  status          text NOT NULL DEFAULT 'CREATED' CHECK (status IN ('CREATED', 'PAID', 'CANCELLED')),
  total_amount    bigint NOT NULL CHECK (total_amount >= 0),
  -- A retried POST /orders with the same key returns the first order instead of creating another.
  idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  request_hash    text,
  version         bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT orders_idempotency_key UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE order_items (
  order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id bigint NOT NULL REFERENCES products (id),
  quantity   integer NOT NULL CHECK (quantity > 0),
  unit_price bigint NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX order_items_product_idx ON order_items (product_id);

CREATE TABLE payments (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id   bigint NOT NULL REFERENCES orders (id),
  amount     bigint NOT NULL CHECK (amount >= 0),
  status     text NOT NULL DEFAULT 'COMPLETED' CHECK (status IN ('COMPLETED', 'REFUNDED')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_order_key UNIQUE (order_id)
);
