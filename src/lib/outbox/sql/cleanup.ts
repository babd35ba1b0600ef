import { sql } from '../../db/query.js';
import { published } from './states.js';

/**
 * Retention (`outbox cleanup`): small batches, each one statement (its own short transaction), so no
 * long lock is held. Only PUBLISHED rows are ever deleted: PENDING and FAILED are work not done.
 */
export function deletePublished(before: Date, limit: number) {
  return sql(
    'outbox.delete-published',
    `DELETE FROM outbox_event WHERE id IN (
       SELECT id FROM outbox_event
        WHERE ${published()} AND published_at < $1
        ORDER BY id LIMIT $2
        FOR UPDATE SKIP LOCKED)`,
    [before, limit],
  );
}

export function countPublished(before: Date) {
  return sql(
    'outbox.count-published',
    `SELECT count(*)::bigint AS n FROM outbox_event WHERE ${published()} AND published_at < $1`,
    [before],
  );
}
