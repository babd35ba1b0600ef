import { sql } from '../../db/query.js';

/** The channel relays LISTEN on; OutboxWaker NOTIFYs it after outbox rows commit. */
export const OUTBOX_CHANNEL = 'outbox_event';

/**
 * Wakes every relay LISTENing. Sent on the waker's own connection, never inside a data transaction:
 * PostgreSQL serializes the commits of all transactions that notified (a database-wide lock held
 * through the commit's WAL flush).
 */
export function notifyRelays() {
  return sql('outbox.notify-relays', `SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
}
