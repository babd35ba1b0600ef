-- Materialized rankings written by `commerce aggregate`. A period is replaced in one transaction.
CREATE TABLE mv_product_rank_weekly (
  period_start date NOT NULL,
  period_end   date NOT NULL,
  rank         integer NOT NULL CHECK (rank > 0),
  product_id   bigint NOT NULL,
  score        double precision NOT NULL,
  view_count   bigint NOT NULL,
  like_count   bigint NOT NULL,
  sales_count  bigint NOT NULL,
  sales_amount bigint NOT NULL,
  job_run_id   bigint,
  computed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (period_start, rank),
  CONSTRAINT mv_product_rank_weekly_product_key UNIQUE (period_start, product_id),
  CHECK (period_end >= period_start)
);

CREATE TABLE mv_product_rank_monthly (LIKE mv_product_rank_weekly INCLUDING ALL);
