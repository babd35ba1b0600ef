import type pg from 'pg';
import { createEvent, type DomainEvent } from '../../lib/events/index.js';
import { rows } from '../../lib/db/query.js';
import { conflict } from '../errors.js';
import { moveStock } from './sql.js';

export interface StockLine {
  productId: number;
  quantity: number;
}

/**
 * Moves the stock of an order's products in one statement (`sign` -1 takes, +1 gives back) and returns
 * one StockAdjusted event per product, each with the product's new version. The caller has already
 * locked the products in id order. A product without enough stock is a 409 and the caller's
 * transaction rolls back, so no partial order survives.
 */
export async function moveOrderStock(
  client: pg.PoolClient,
  lines: StockLine[],
  sign: 1 | -1,
  reason: string,
  orderId: number,
): Promise<DomainEvent[]> {
  const ids = lines.map((l) => l.productId);
  const moved = await rows<{ id: number; stock: number; version: number }>(
    client,
    moveStock(
      ids,
      lines.map((l) => sign * l.quantity),
    ),
  );
  return stockAdjusted(lines, new Map(moved.map((r) => [r.id, r])), sign, reason, orderId);
}

/**
 * One StockAdjusted per product from the rows the stock move returned (by product id; a product
 * missing, or with a null stock, did not have enough). A product without enough stock is a 409 naming
 * it, thrown inside the caller's transaction so it rolls back.
 */
export function stockAdjusted(
  lines: StockLine[],
  moved: Map<number, { stock: number | null; version: number | null }>,
  sign: 1 | -1,
  reason: string,
  orderId: number,
): DomainEvent[] {
  const short = lines.find((l) => moved.get(l.productId)?.stock == null);
  if (short) {
    throw conflict(
      'INSUFFICIENT_STOCK',
      `product ${short.productId} does not have ${short.quantity} in stock`,
    );
  }
  return lines.map((l) => {
    const row = moved.get(l.productId)!;
    return createEvent('StockAdjusted', l.productId, row.version!, {
      productId: l.productId,
      delta: sign * l.quantity,
      newStock: row.stock!,
      reason,
      orderId,
    });
  });
}
