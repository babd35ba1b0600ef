import { createHash } from 'node:crypto';
import { createEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one, rows } from '../../lib/db/query.js';
import { withTransaction } from '../../lib/db/transaction.js';
import { unprocessable } from '../errors.js';
import { evictProduct } from '../catalog/cache.js';
import type { ServiceDeps } from '../deps.js';
import { toOrder, type Order } from './order.js';
import {
  insertItems,
  insertOrder,
  lockProducts,
  selectByIdempotencyKey,
  selectOrder,
  type OrderRow,
} from './sql.js';
import { moveOrderStock, type StockLine } from './stock.js';

/** Thrown inside the transaction when a concurrent request with the same key won: replay its order. */
class KeyTaken extends Error {}

export interface CreateOrderResult {
  order: Order;
  /** false when an earlier request with the same Idempotency-Key created it. */
  created: boolean;
}

/**
 * Creates an order: prices from the database, stock taken atomically (never oversold), the order,
 * its items, one StockAdjusted per product and OrderCreated in one transaction. With an
 * Idempotency-Key, a retry of the same request returns the first order and creates nothing.
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
      const ids = lines.map((l) => l.productId);
      const products = await rows<{ id: number; price: number }>(client, lockProducts(ids));
      const prices = new Map(products.map((p) => [p.id, p.price]));
      const unknown = ids.find((id) => !prices.has(id));
      if (unknown !== undefined) throw unprocessable('UNKNOWN_PRODUCT', `product ${unknown} does not exist`);
      const priced = lines.map((l) => ({ ...l, unitPrice: prices.get(l.productId)! }));
      const total = priced.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
      // Beyond 2^53 a JS number loses cents (and beyond 2^63 the bigint column overflows): refuse.
      if (!Number.isSafeInteger(total)) {
        throw unprocessable('ORDER_TOO_LARGE', 'the order total is too large to be represented exactly');
      }
      const row = await one<{ id: number; version: number }>(
        client,
        insertOrder(userId, total, idempotencyKey ?? null, hash),
      );
      if (!row) throw new KeyTaken();
      await client.query(
        insertItems(
          row.id,
          ids,
          priced.map((l) => l.quantity),
          priced.map((l) => l.unitPrice),
        ),
      );
      const stockEvents = await moveOrderStock(client, lines, -1, 'order', row.id);
      const created = createEvent('OrderCreated', row.id, row.version, {
        orderId: row.id,
        userId,
        items: priced,
        totalAmount: total,
      });
      await writeOutbox(client, [...stockEvents, created], deps.config.kafka.topics);
      return toOrder((await one<OrderRow>(client, selectOrder(row.id, userId)))!);
    });
  } catch (err) {
    if (!(err instanceof KeyTaken)) throw err;
    return { order: (await replay(deps, userId, idempotencyKey!, hash!))!, created: false };
  }
  await Promise.all(lines.map((l) => evictProduct(deps, l.productId)));
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
