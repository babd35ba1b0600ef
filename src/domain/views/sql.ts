import { sql } from '../../lib/db/query.js';

/**
 * Lock the viewed products in id order (as orders do, so a flush never deadlocks with an order),
 * then bump each one's version once: the version of its ProductViewed event.
 */
export const lockViewedProducts = (ids: number[]) =>
  sql(
    'views.lock-viewed-products',
    `SELECT id FROM products WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
    [ids],
  );

export const bumpViewedVersions = (ids: number[]) =>
  sql(
    'views.bump-viewed-versions',
    `UPDATE products SET version = version + 1 WHERE id = ANY($1::bigint[]) RETURNING id, version`,
    [ids],
  );

/** Did a flush whose COMMIT went unanswered commit after all? Its event ids tell (outbox_event_event_id_key). */
export const selectFlushCommitted = (eventIds: string[]) =>
  sql(
    'views.select-flush-committed',
    `SELECT EXISTS (SELECT 1 FROM outbox_event WHERE event_id = ANY($1::uuid[])) AS committed`,
    [eventIds],
  );
