import { one, rows } from '../../lib/db/query.js';
import { notFound } from '../errors.js';
import type { Page } from '../catalog/reads.js';
import type { ServiceDeps } from '../deps.js';
import { toOrder, type Order } from './order.js';
import { countUserOrders, selectOrder, selectUserOrders, type OrderRow } from './sql.js';

/** A user's own orders; someone else's order is a 404, as if it did not exist. */
export async function getOrder(deps: ServiceDeps, userId: string, orderId: number): Promise<Order> {
  const row = await one<OrderRow>(deps.pool, selectOrder(orderId, userId));
  if (!row) throw notFound('order', orderId);
  return toOrder(row);
}

export async function listOrders(
  deps: ServiceDeps,
  userId: string,
  page: number,
  size: number,
): Promise<Page<Order>> {
  const [items, count] = await Promise.all([
    rows<OrderRow>(deps.pool, selectUserOrders(userId, size, (page - 1) * size)),
    one<{ total: number }>(deps.pool, countUserOrders(userId)),
  ]);
  return { items: items.map(toOrder), page, size, total: count!.total };
}
