import { sql } from '../../lib/db/query.js';

// What `trace` reads from PostgreSQL: each an index lookup (orders/products by id, the outbox by
// aggregate through outbox_event_aggregate_version_key or by event id, the inbox by event id), never
// a scan. Read only.

export interface OrderRow {
  id: string;
  status: string;
  user_id: string;
  total_amount: string;
  version: string;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
}

export function selectOrder(id: string) {
  return sql(
    'trace.select-order',
    `SELECT id::text, status, user_id, total_amount::text, version::text, created_at, updated_at, expires_at
       FROM orders WHERE id = $1`,
    [id],
  );
}

export interface ProductRow {
  id: string;
  name: string;
  stock: number;
  version: string;
  created_at: Date;
  updated_at: Date;
}

export function selectProduct(id: string) {
  return sql(
    'trace.select-product',
    `SELECT id::text, name, stock, version::text, created_at, updated_at FROM products WHERE id = $1`,
    [id],
  );
}

export interface OutboxRow {
  event_id: string;
  aggregate_type: 'order' | 'product';
  aggregate_id: string;
  aggregate_version: string;
  event_type: string;
  topic: string;
  partition_key: string;
  occurred_at: string | null;
  status: 'PENDING' | 'PUBLISHED' | 'FAILED';
  attempt_count: number;
  last_error: string | null;
  blocked: boolean;
  next_attempt_at: Date;
  locked_by: string | null;
  created_at: Date;
  published_at: Date | null;
  /** All the aggregate's rows still in the outbox (before the limit). */
  total: string;
}

const OUTBOX_COLUMNS = `event_id::text, aggregate_type, aggregate_id, aggregate_version::text, event_type,
  topic, partition_key, payload->>'occurredAt' AS occurred_at, status, attempt_count, last_error, blocked,
  next_attempt_at, locked_by, created_at, published_at`;

/** The aggregate's `limit` latest outbox rows (newest first) and how many it has in all. */
export function selectAggregateEvents(type: 'order' | 'product', id: string, limit: number) {
  return sql(
    'trace.select-aggregate-events',
    `SELECT ${OUTBOX_COLUMNS}, count(*) OVER ()::text AS total
       FROM outbox_event WHERE aggregate_type = $1 AND aggregate_id = $2
      ORDER BY aggregate_version DESC LIMIT $3`,
    [type, id, limit],
  );
}

export function selectOutboxEvent(eventId: string) {
  return sql(
    'trace.select-outbox-event',
    `SELECT ${OUTBOX_COLUMNS}, '1' AS total FROM outbox_event WHERE event_id = $1`,
    [eventId],
  );
}

export interface InboxRow {
  event_id: string;
  handlers: string[];
  added: number | null;
  handled_at: Date;
  ranked_at: Date | null;
  consumer: string | null;
  event_type: string | null;
  aggregate_type: 'order' | 'product' | null;
  aggregate_id: string | null;
  version: string | null;
  topic: string | null;
  partition: number | null;
  offset: string | null;
  occurred_at: Date | null;
  received_at: Date | null;
}

/** The collector's inbox rows of these events (migrations/014: handlers, their times, the audit columns). */
export function selectInbox(eventIds: string[]) {
  return sql(
    'trace.select-inbox',
    `SELECT event_id::text, handlers, added, handled_at, ranked_at, consumer, event_type, aggregate_type,
            aggregate_id, version::text, topic, partition, "offset"::text AS "offset", occurred_at, received_at
       FROM event_inbox WHERE event_id = ANY ($1::uuid[])`,
    [eventIds],
  );
}
