import type pg from 'pg';
import { one, rows } from '../../lib/db/query.js';
import { CliError, UsageError } from '../../lib/errors.js';
import { selectOrderPayments, type PaymentRow } from '../../domain/payments/sql.js';
import {
  selectAggregateEvents,
  selectInbox,
  selectOrder,
  selectOutboxEvent,
  selectProduct,
  type InboxRow,
  type OrderRow,
  type OutboxRow,
  type ProductRow,
} from './sql.js';
import type { TraceKind } from './types.js';

/** What PostgreSQL holds about the traced aggregate. */
export interface DatabasePart {
  aggregate: { type: 'order' | 'product'; id: string; summary: string | null };
  /** Oldest first. */
  outbox: OutboxRow[];
  totalEvents: number;
  inbox: Map<string, InboxRow>;
  /** Events known only from the inbox (their outbox row was cleaned up): `trace event`. */
  inboxOnly: InboxRow[];
  payments: PaymentRow[] | null;
}

const ID = /^[1-9]\d{0,17}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id as the command line gives it: a positive integer for orders and products, a uuid for events (else exit 2). */
export function checkId(kind: TraceKind, id: string): string {
  if (kind === 'event') {
    if (!UUID.test(id)) throw new UsageError(`"${id}" is not an event id (a uuid, e.g. 3f0c2a9e-...)`);
    return id.toLowerCase();
  }
  if (!ID.test(id))
    throw new UsageError(`"${id}" is not ${kind === 'order' ? 'an' : 'a'} ${kind} id (a positive integer)`);
  return id;
}

export class NotFoundError extends CliError {
  constructor(message: string) {
    super(message, 'NOT_FOUND');
  }
}

/** Reads the aggregate, its latest `limit` outbox rows, their inbox rows and (orders) payments. */
export async function readDatabase(
  pool: pg.Pool,
  kind: TraceKind,
  id: string,
  limit: number,
): Promise<DatabasePart> {
  if (kind === 'event') return readEvent(pool, id);
  let summary: string;
  if (kind === 'order') {
    const order = await one<OrderRow>(pool, selectOrder(id));
    if (!order) throw new NotFoundError(`order ${id} does not exist`);
    summary =
      `${order.status}, user ${order.user_id}, total ${order.total_amount}, version ${order.version}, ` +
      `created ${order.created_at.toISOString()}` +
      (order.status === 'CREATED' ? `, payment window until ${order.expires_at.toISOString()}` : '');
  } else {
    const product = await one<ProductRow>(pool, selectProduct(id));
    if (!product) throw new NotFoundError(`product ${id} does not exist`);
    summary = `"${product.name}", stock ${product.stock}, version ${product.version}`;
  }
  const outbox = (await rows<OutboxRow>(pool, selectAggregateEvents(kind, id, limit))).reverse();
  const payments = kind === 'order' ? await rows<PaymentRow>(pool, selectOrderPayments(Number(id))) : null;
  return {
    aggregate: { type: kind, id, summary },
    outbox,
    totalEvents: Number(outbox[0]?.total ?? 0),
    inbox: await readInbox(
      pool,
      outbox.map((o) => o.event_id),
    ),
    inboxOnly: [],
    payments,
  };
}

async function readEvent(pool: pg.Pool, eventId: string): Promise<DatabasePart> {
  const outbox = await one<OutboxRow>(pool, selectOutboxEvent(eventId));
  const inbox = await readInbox(pool, [eventId]);
  const row = inbox.get(eventId);
  if (!outbox && !row)
    throw new NotFoundError(
      `event ${eventId} is neither in the outbox nor in the inbox ` +
        '(a message never written through the outbox may be on a dead-letter topic: commerce dlq list)',
    );
  const type = outbox?.aggregate_type ?? row?.aggregate_type ?? 'order';
  const aggregateId = outbox?.aggregate_id ?? row?.aggregate_id ?? '?';
  return {
    aggregate: { type, id: aggregateId, summary: null },
    outbox: outbox ? [outbox] : [],
    totalEvents: 1,
    inbox,
    inboxOnly: !outbox && row ? [row] : [],
    payments: null,
  };
}

async function readInbox(pool: pg.Pool, eventIds: string[]): Promise<Map<string, InboxRow>> {
  if (eventIds.length === 0) return new Map();
  const found = await rows<InboxRow>(pool, selectInbox(eventIds));
  return new Map(found.map((r) => [r.event_id, r]));
}
