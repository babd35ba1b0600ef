-- History of batch job runs (aggregate, cleanup, ...): what ran, with what, and how it ended.
CREATE TABLE job_run (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_name     text NOT NULL,
  params       jsonb NOT NULL DEFAULT '{}',
  status       text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
  rows_read    bigint NOT NULL DEFAULT 0,
  rows_written bigint NOT NULL DEFAULT 0,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  duration_ms  bigint,
  error        text,
  host         text
);
CREATE INDEX job_run_job_started_idx ON job_run (job_name, started_at DESC);
