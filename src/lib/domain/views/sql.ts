import { sql } from '../../db/query.js';

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
