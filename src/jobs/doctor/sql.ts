import { sql } from '../../lib/db/query.js';

// What `doctor` reads from PostgreSQL: each a small aggregate over an index (the unpublished outbox
// rows, the unsettled payments, job_run grouped by job), never a scan of a growing table.

export function selectServer() {
  return sql(
    'doctor.select-server',
    `SELECT current_setting('server_version') AS version,
            current_setting('wal_level') AS wal_level,
            extract(epoch FROM clock_timestamp())::float8 AS now_epoch`,
  );
}
