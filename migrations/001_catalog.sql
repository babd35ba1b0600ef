-- Catalog: brands, products and likes. Money is stored in minor units (bigint), never floats.
CREATE TABLE brands (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT brands_name_key UNIQUE (name)
);

CREATE TABLE products (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  brand_id    bigint NOT NULL REFERENCES brands (id),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  price       bigint NOT NULL CHECK (price >= 0),
  stock       integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
  like_count  integer NOT NULL DEFAULT 0 CHECK (like_count >= 0),
  -- Per-aggregate event version: bumped by every event the product emits, so consumers can order them.
  version     bigint NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- List sorts: latest, price, likes (id breaks ties so paging is stable), optionally within a brand.
CREATE INDEX products_latest_idx ON products (created_at DESC, id DESC);
CREATE INDEX products_price_idx ON products (price, id);
CREATE INDEX products_likes_idx ON products (like_count DESC, id DESC);
CREATE INDEX products_brand_latest_idx ON products (brand_id, created_at DESC, id DESC);

CREATE TABLE likes (
  user_id    text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 100),
  product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, product_id)
);
CREATE INDEX likes_product_idx ON likes (product_id);
