import { sql } from '../db/query.js';

/**
 * Retention of the outbox and of the collector's idempotency marks. Deletes go in small batches, each
 * one statement (its own short transaction) so no long lock is held and the relay keeps working.
 * Only PUBLISHED outbox rows are ever deleted: PENDING and FAILED rows are work not yet done.
 */
export const outboxCleanupQueries = {
  deletePublishedBatch: (before: Date, limit: number) =>
    sql(
      'outbox.cleanup.delete_published',
      `DELETE FROM outbox_event WHERE id IN (
         SELECT id FROM outbox_event
          WHERE status = 'PUBLISHED' AND published_at < $1
          ORDER BY id LIMIT $2
          FOR UPDATE SKIP LOCKED)`,
      [before, limit],
    ),
  countPublished: (before: Date) =>
    sql(
      'outbox.cleanup.count_published',
      `SELECT count(*)::bigint AS n FROM outbox_event WHERE status = 'PUBLISHED' AND published_at < $1`,
      [before],
    ),
  deleteHandledBatch: (before: Date, limit: number) =>
    sql(
      'event_handled.cleanup.delete',
      `DELETE FROM event_handled e USING (
         SELECT event_id, handler FROM event_handled WHERE handled_at < $1
          ORDER BY handled_at LIMIT $2 FOR UPDATE SKIP LOCKED) old
        WHERE e.event_id = old.event_id AND e.handler = old.handler`,
      [before, limit],
    ),
  countHandled: (before: Date) =>
    sql(
      'event_handled.cleanup.count',
      `SELECT count(*)::bigint AS n FROM event_handled WHERE handled_at < $1`,
      [before],
    ),
};
