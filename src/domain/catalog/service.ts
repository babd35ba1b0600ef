import { createEvent, type DomainEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one } from '../../lib/db/query.js';
import { withTransaction } from '../../lib/db/transaction.js';
import { isSqlState, SqlState } from '../../lib/db/errors.js';
import { conflict, notFound, unprocessable } from '../errors.js';
import type { ServiceDeps } from '../deps.js';
import { evictLists, evictProduct } from './cache.js';
import { insertBrand, insertProduct, lockProductStock, setProductStock, updateProduct } from './sql.js';

/**
 * Catalog writes (admin). Each commits its row change and its outbox event in one transaction,
 * then evicts the cache entries it made stale.
 */
export async function createBrand(deps: ServiceDeps, input: { name: string; description: string }) {
  try {
    const row = await one<{ id: number; name: string; description: string; created_at: Date }>(
      deps.pool,
      insertBrand(input.name, input.description),
    );
    return { id: row!.id, name: row!.name, description: row!.description, createdAt: row!.created_at };
  } catch (err) {
    if (isSqlState(err, SqlState.UNIQUE_VIOLATION))
      throw conflict('BRAND_EXISTS', `brand "${input.name}" exists`);
    throw err;
  }
}

export interface NewProduct {
  brandId: number;
  name: string;
  description: string;
  price: number;
  stock: number;
}

export async function createProduct(deps: ServiceDeps, input: NewProduct): Promise<number> {
  const id = await withTransaction(deps.pool, async (client) => {
    const row = await one<{ id: number; version: number }>(client, insertProduct(input)).catch((err) => {
      if (isSqlState(err, SqlState.FOREIGN_KEY_VIOLATION)) {
        throw unprocessable('UNKNOWN_BRAND', `brandId: brand ${input.brandId} does not exist`);
      }
      throw err;
    });
    const { brandId, name, price, stock } = input;
    const event = createEvent('ProductCreated', row!.id, row!.version, {
      productId: row!.id,
      brandId,
      name,
      price,
      stock,
    });
    await writeOutbox(client, [event], deps.config.kafka.topics);
    return row!.id;
  });
  await evictLists(deps);
  return id;
}

export async function patchProduct(
  deps: ServiceDeps,
  id: number,
  changes: { name?: string; description?: string; price?: number },
): Promise<void> {
  await withTransaction(deps.pool, async (client) => {
    const row = await one<{ version: number }>(client, updateProduct(id, changes));
    if (!row) throw notFound('product', id);
    const event = createEvent('ProductUpdated', id, row.version, { productId: id, ...changes });
    await writeOutbox(client, [event], deps.config.kafka.topics);
  });
  await evictProduct(deps, id);
}

/** The stock column is a PostgreSQL integer. */
const MAX_STOCK = 2_147_483_647;

/** `set` replaces the stock, `delta` adds or removes; stock never goes below zero (409). */
export type StockChange = { set: number; reason: string } | { delta: number; reason: string };

export async function adjustStock(deps: ServiceDeps, id: number, change: StockChange) {
  const result = await withTransaction(deps.pool, async (client) => {
    const current = await one<{ stock: number }>(client, lockProductStock(id));
    if (!current) throw notFound('product', id);
    const newStock = 'set' in change ? change.set : current.stock + change.delta;
    const delta = newStock - current.stock;
    if (newStock > MAX_STOCK) {
      throw unprocessable('STOCK_OUT_OF_RANGE', `stock of product ${id} cannot exceed ${MAX_STOCK}`);
    }
    if (newStock < 0) {
      throw conflict(
        'INSUFFICIENT_STOCK',
        `product ${id} has ${current.stock} in stock; cannot remove ${-delta}`,
      );
    }
    // Nothing changed, so nothing to tell anyone: no version bump, no event.
    if (delta === 0) return { productId: id, stock: newStock, delta, changed: false };
    const row = await one<{ version: number }>(client, setProductStock(id, newStock));
    const events: DomainEvent[] = [
      createEvent('StockAdjusted', id, row!.version, {
        productId: id,
        delta,
        newStock,
        reason: change.reason,
      }),
    ];
    await writeOutbox(client, events, deps.config.kafka.topics);
    return { productId: id, stock: newStock, delta, changed: true };
  });
  if (result.changed) await evictProduct(deps, id);
  return { productId: result.productId, stock: result.stock, delta: result.delta };
}
