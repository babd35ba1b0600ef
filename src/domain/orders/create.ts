import { createHash } from 'node:crypto';
import { createEvent, DEFAULT_CURRENCY } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one, rows } from '../../lib/db/query.js';
import { withTransaction } from '../../lib/db/transaction.js';
import { unprocessable } from '../errors.js';
import { evictProducts } from '../catalog/cache.js';
import type { ServiceDeps } from '../deps.js';
import { toOrder, type Order } from './order.js';
import {
  createOrderRows,
  selectByIdempotencyKey,
  selectOrder,
  type CreatedOrderRow,
  type OrderRow,
} from './sql.js';
import { stockAdjusted, type StockLine } from './stock.js';

/** Thrown inside the transaction when a concurrent request with the same key won: replay its order. */
class KeyTaken extends Error {}

export interface CreateOrderResult {
  order: Order;
  /** false when an earlier request with the same Idempotency-Key created it. */
  created: boolean;
}

/**
 * Creates an order: prices from the database, stock taken atomically (never oversold), the order,
 * its items, one StockAdjusted per product and OrderCreated in one transaction of two statements
 * (the order with its stock and items, then its events: their payloads need the order id and the
 * products' new versions, and the envelope is built in one place, createEvent), then one Redis call
 * for the evictions. With an Idempotency-Key, a retry of the same request returns the first order
 * and creates nothing.
 */
export async function createOrder(
  deps: ServiceDeps,
  userId: string,
  items: StockLine[],
  idempotencyKey?: string,
): Promise<CreateOrderResult> {
  const lines = [...items].sort((a, b) => a.productId - b.productId);
  const hash = idempotencyKey ? requestHash(lines) : null;
  if (idempotencyKey) {
    const earlier = await replay(deps, userId, idempotencyKey, hash!);
    if (earlier) return { order: earlier, created: false };
  }
  let order: Order;
  try {
    order = await withTransaction(deps.pool, async (client) => {
      const placed = await rows<CreatedOrderRow>(
        client,
        createOrderRows(
          userId,
          lines.map((l) => l.productId),
          lines.map((l) => l.quantity),
          idempotencyKey ?? null,
          hash,
          deps.config.orders.paymentTtlMs,
        ),
      );
      const unknown = placed.find((p) => p.price === null);
      if (unknown) throw unprocessable('UNKNOWN_PRODUCT', `product ${unknown.product_id} does not exist`);
      // Beyond 2^53 a JS number loses cents (and beyond 2^63 the bigint column overflows): refuse.
      if (!Number.isSafeInteger(placed[0]!.total)) {
        throw unprocessable('ORDER_TOO_LARGE', 'the order total is too large to be represented exactly');
      }
      const row = placed[0]!;
      if (row.order_id === null) throw new KeyTaken();
      const orderId = row.order_id;
      const byId = new Map(placed.map((p) => [p.product_id, p]));
      const priced = lines.map((l) => ({ ...l, unitPrice: byId.get(l.productId)!.price! }));
      const stockEvents = stockAdjusted(lines, byId, -1, 'order', orderId);
      const created = createEvent('OrderCreated', orderId, row.order_version!, {
        orderId,
        userId,
        currency: DEFAULT_CURRENCY,
        items: priced.map((l) => ({ ...l, lineTotal: l.quantity * l.unitPrice })),
        totalAmount: row.total_amount!,
      });
      await writeOutbox(client, [...stockEvents, created], deps.config.kafka.topics);
      // The statement returned the order: no read-back.
      return toOrder({
        id: orderId,
        user_id: userId,
        status: row.status!,
        total_amount: row.total_amount!,
        created_at: row.created_at!,
        updated_at: row.updated_at!,
        expires_at: row.expires_at!,
        items: priced,
      });
    });
  } catch (err) {
    if (!(err instanceof KeyTaken)) throw err;
    return { order: (await replay(deps, userId, idempotencyKey!, hash!))!, created: false };
  }
  await evictProducts(
    deps,
    lines.map((l) => l.productId),
  );
  return { order, created: true };
}

/** The order an earlier request with this key created; 422 when that request had another body. */
async function replay(
  deps: ServiceDeps,
  userId: string,
  key: string,
  hash: string,
): Promise<Order | undefined> {
  const earlier = await one<{ id: number; request_hash: string }>(
    deps.pool,
    selectByIdempotencyKey(userId, key),
  );
  if (!earlier) return undefined;
  if (earlier.request_hash !== hash) {
    throw unprocessable(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key "${key}" was used for a different request`,
    );
  }
  return toOrder((await one<OrderRow>(deps.pool, selectOrder(earlier.id, userId)))!);
}

function requestHash(lines: StockLine[]): string {
  const canonical = JSON.stringify(lines.map((l) => [l.productId, l.quantity]));
  return createHash('sha256').update(canonical).digest('hex');
}
