import { sql } from '../../lib/db/query.js';

/** Statements over orders, their items and payments, and the stock they move. */
export interface OrderRow {
  id: number;
  user_id: string;
  status: 'CREATED' | 'PAID' | 'CANCELLED';
  total_amount: number;
  created_at: Date;
  updated_at: Date;
  items: Array<{ productId: number; quantity: number; unitPrice: number }>;
}

const ORDER_WITH_ITEMS = `SELECT o.id, o.user_id, o.status, o.total_amount, o.created_at, o.updated_at,
    (SELECT json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity,
       'unitPrice', i.unit_price) ORDER BY i.product_id) FROM order_items i WHERE i.order_id = o.id) AS items
  FROM orders o`;

export const selectOrder = (id: number, userId: string) =>
  sql('orders.select-order', `${ORDER_WITH_ITEMS} WHERE o.id = $1 AND o.user_id = $2`, [id, userId]);

export const selectUserOrders = (userId: string, limit: number, offset: number) =>
  sql(
    'orders.select-user-orders',
    `${ORDER_WITH_ITEMS} WHERE o.user_id = $1 ORDER BY o.created_at DESC, o.id DESC LIMIT $2 OFFSET $3`,
    [userId, limit, offset],
  );

export const countUserOrders = (userId: string) =>
  sql('orders.count-user-orders', `SELECT count(*)::int AS total FROM orders WHERE user_id = $1`, [userId]);

export const selectByIdempotencyKey = (userId: string, key: string) =>
  sql(
    'orders.select-by-idempotency-key',
    `SELECT id, request_hash FROM orders WHERE user_id = $1 AND idempotency_key = $2`,
    [userId, key],
  );

/** Locks the products in id order: every order locks in the same order, so orders never deadlock. */
export const lockProducts = (ids: number[]) =>
  sql(
    'orders.lock-products',
    `SELECT id, price, stock FROM products WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
    [ids],
  );

/** Nothing on a key conflict: a concurrent retry of the same request already created the order. */
export const insertOrder = (userId: string, total: number, key: string | null, hash: string | null) =>
  sql(
    'orders.insert-order',
    `INSERT INTO orders (user_id, total_amount, idempotency_key, request_hash, version)
     VALUES ($1, $2, $3, $4, 1) ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id, version`,
    [userId, total, key, hash],
  );

export const insertItems = (orderId: number, ids: number[], quantities: number[], prices: number[]) =>
  sql(
    'orders.insert-items',
    `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
     SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::bigint[])`,
    [orderId, ids, quantities, prices],
  );

/** Adds `delta` (negative: remove) per product; a row without enough stock is skipped, not updated. */
export const moveStock = (ids: number[], deltas: number[]) =>
  sql(
    'orders.move-stock',
    `UPDATE products p SET stock = p.stock + m.delta, version = p.version + 1, updated_at = now()
     FROM unnest($1::bigint[], $2::int[]) AS m(id, delta)
     WHERE p.id = m.id AND p.stock + m.delta >= 0
     RETURNING p.id, p.stock, p.version`,
    [ids, deltas],
  );

export const lockOrder = (id: number, userId: string) =>
  sql(
    'orders.lock-order',
    `SELECT status, total_amount FROM orders WHERE id = $1 AND user_id = $2 FOR UPDATE`,
    [id, userId],
  );

export const setOrderStatus = (id: number, status: OrderRow['status']) =>
  sql(
    'orders.set-order-status',
    `UPDATE orders SET status = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version`,
    [id, status],
  );
