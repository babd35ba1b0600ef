import type { DomainEvent } from '../../lib/events/index.js';
import { dateInZone } from '../../lib/time/dates.js';
import { contributions } from '../../lib/ranking/contribution.js';

/**
 * Pure per-batch folding: a batch of new events becomes one row per product (current totals and
 * versioned state) and one row per (day, product), so the database is written with a handful of
 * set-based statements however large the batch.
 *
 * Sales count created orders: OrderCreated adds units and amount, OrderCancelled subtracts them,
 * OrderPaid changes nothing (a paid order was already counted when it was created).
 */
export interface ProductDelta {
  productId: number;
  views: number;
  likes: number; // net likes gained: +1 liked, -1 unliked
  salesCount: number; // units
  salesAmount: number; // minor units
  likeCount: number | null;
  likeVersion: number; // 0 = no like state in this batch
  stock: number | null;
  stockVersion: number; // 0 = no stock state in this batch
}

export interface DailyDelta {
  date: string; // YYYY-MM-DD in the configured time zone
  productId: number;
  views: number;
  likes: number;
  salesCount: number;
  salesAmount: number;
}

function emptyDelta(productId: number): ProductDelta {
  return {
    productId,
    views: 0,
    likes: 0,
    salesCount: 0,
    salesAmount: 0,
    likeCount: null,
    likeVersion: 0,
    stock: null,
    stockVersion: 0,
  };
}

export function foldProducts(events: DomainEvent[]): ProductDelta[] {
  const byProduct = new Map<number, ProductDelta>();
  const get = (id: number) => {
    let d = byProduct.get(id);
    if (!d) byProduct.set(id, (d = emptyDelta(id)));
    return d;
  };
  for (const event of events) {
    for (const c of contributions(event)) {
      const d = get(c.productId);
      d.views += c.views;
      d.likes += c.likes;
      d.salesCount += c.units;
      d.salesAmount += c.amount;
    }
    // Versioned state: within the batch the highest version wins, whatever the delivery order.
    if (event.eventType === 'LikeChanged') {
      const d = get(event.payload.productId);
      if (event.version > d.likeVersion) {
        d.likeVersion = event.version;
        d.likeCount = event.payload.likeCount;
      }
    } else if (event.eventType === 'StockAdjusted' || event.eventType === 'ProductCreated') {
      const d = get(event.payload.productId);
      const stock = event.eventType === 'StockAdjusted' ? event.payload.newStock : event.payload.stock;
      if (event.version > d.stockVersion) {
        d.stockVersion = event.version;
        d.stock = stock;
      }
    }
  }
  // Sorted by product id: concurrent collectors then lock rows in the same order (no deadlocks).
  return [...byProduct.values()].sort((a, b) => a.productId - b.productId);
}

export function foldDaily(events: DomainEvent[], timeZone: string): DailyDelta[] {
  const byKey = new Map<string, DailyDelta>();
  for (const event of events) {
    const cs = contributions(event);
    if (cs.length === 0) continue;
    const date = dateInZone(event.occurredAt, timeZone);
    for (const c of cs) {
      const key = `${date}|${c.productId}`;
      let d = byKey.get(key);
      if (!d) {
        d = { date, productId: c.productId, views: 0, likes: 0, salesCount: 0, salesAmount: 0 };
        byKey.set(key, d);
      }
      d.views += c.views;
      d.likes += c.likes;
      d.salesCount += c.units;
      d.salesAmount += c.amount;
    }
  }
  return [...byKey.values()].sort((a, b) => a.date.localeCompare(b.date) || a.productId - b.productId);
}
