import { sql } from '../../lib/db/query.js';

/** Statements over orders, their items and payments, and the stock they move. */
export type OrderStatus = 'CREATED' | 'PAID' | 'CANCELLED' | 'EXPIRED';

export interface OrderRow {
  id: number;
  user_id: string;
  status: OrderStatus;
  total_amount: number;
  created_at: Date;
  updated_at: Date;
  /** The end of the payment window (created_at + ORDER_PAYMENT_TTL): then `orders expire` may expire it. */
  expires_at: Date;
  items: Array<{ productId: number; quantity: number; unitPrice: number }>;
}

const ORDER_WITH_ITEMS = `SELECT o.id, o.user_id, o.status, o.total_amount, o.created_at, o.updated_at, o.expires_at,
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

/** One row per product of a new order (createOrderRows), in product id order. */
export interface CreatedOrderRow {
  product_id: number;
  /** null: no such product. */
  price: number | null;
  /** The product's stock and version after the order; null: not enough stock (nothing moved). */
  stock: number | null;
  version: number | null;
  /** The sum of price x quantity, exact (numeric); the order is written only while it is a safe integer. */
  total: number | null;
  /** null: no order written (unknown product, total too large, or the Idempotency-Key taken). */
  order_id: number | null;
  order_version: number | null;
  status: OrderRow['status'] | null;
  total_amount: number | null;
  created_at: Date | null;
  updated_at: Date | null;
  expires_at: Date | null;
}

/**
 * The whole order in one statement (one round trip instead of five): locks the products in id order
 * (every order locks in the same order, so orders never deadlock), takes the stock only where enough
 * is left (the conditional UPDATE re-reads the locked row, so concurrent orders never take it below
 * zero), writes the order and its items at the locked prices, and returns one row per product saying
 * what happened. The order is written only when every product exists and the total fits a JS number
 * exactly (2^53 - 1; the bigint column would overflow later); nothing on a key conflict (a concurrent
 * retry of the same request created it). The caller rolls back unless every product moved and the
 * order was written, so no partial order survives.
 */
export const createOrderRows = (
  userId: string,
  ids: number[],
  quantities: number[],
  key: string | null,
  hash: string | null,
  paymentTtlMs: number,
) =>
  sql(
    'orders.create-order-rows',
    `WITH wanted AS (
       SELECT * FROM unnest($2::bigint[], $3::int[]) AS w(id, quantity)
     ), locked AS (
       SELECT id, price FROM products WHERE id = ANY($2::bigint[]) ORDER BY id FOR UPDATE
     ), moved AS (
       UPDATE products p SET stock = p.stock - w.quantity, version = p.version + 1, updated_at = now()
         FROM wanted w JOIN locked l ON l.id = w.id
        WHERE p.id = w.id AND p.stock >= w.quantity
       RETURNING p.id, p.stock, p.version
     ), priced AS (
       SELECT sum(l.price::numeric * w.quantity) AS total, count(l.id) AS found
         FROM wanted w LEFT JOIN locked l ON l.id = w.id
     ), placed AS (
       INSERT INTO orders (user_id, total_amount, idempotency_key, request_hash, version, expires_at)
       SELECT $1, total, $4, $5, 1, now() + make_interval(secs => $6::double precision / 1000) FROM priced
        WHERE found = cardinality($2::bigint[]) AND total <= 9007199254740991
       ON CONFLICT (user_id, idempotency_key) DO NOTHING
       RETURNING id, version, status, total_amount, created_at, updated_at, expires_at
     ), items AS (
       INSERT INTO order_items (order_id, product_id, quantity, unit_price)
       SELECT o.id, w.id, w.quantity, l.price FROM placed o, wanted w JOIN locked l ON l.id = w.id
     )
     SELECT w.id AS product_id, l.price, m.stock, m.version, pr.total,
            o.id AS order_id, o.version AS order_version, o.status, o.total_amount, o.created_at, o.updated_at,
            o.expires_at
       FROM wanted w LEFT JOIN locked l ON l.id = w.id LEFT JOIN moved m ON m.id = w.id
      CROSS JOIN priced pr LEFT JOIN placed o ON true
      ORDER BY w.id`,
    [userId, ids, quantities, key, hash, paymentTtlMs],
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
    `SELECT status, total_amount, expires_at, expires_at <= now() AS past_deadline
       FROM orders WHERE id = $1 AND user_id = $2 FOR UPDATE`,
    [id, userId],
  );

/** lockOrder's row: past_deadline is decided by the database clock, as the expiry job decides it. */
export interface LockedOrderRow {
  status: OrderStatus;
  total_amount: number;
  expires_at: Date;
  past_deadline: boolean;
}

export const setOrderStatus = (id: number, status: OrderStatus) =>
  sql(
    'orders.set-order-status',
    `UPDATE orders SET status = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version`,
    [id, status],
  );

/** An order whose payment window has closed, as the expiry job claims it. */
export interface DueOrderRow {
  id: number;
  user_id: string;
  total_amount: number;
  expires_at: Date;
}

const DUE = `o.status = 'CREATED' AND o.expires_at <= now()`;
const NO_LIVE_PAYMENT = `NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id
         AND p.status IN ('REQUESTED', 'PENDING', 'SUCCEEDED', 'REFUND_REQUESTED'))`;

/**
 * Claims up to `limit` unpaid orders past their deadline, oldest deadline first, skipping the rows
 * another transaction holds (a pay, a cancel, a settlement, another expiry run): the job runs beside
 * live traffic and beside itself. Orders with a payment in flight are not claimed; the caller checks
 * again under the locks (expiry.ts: this statement's snapshot may predate a payment committed meanwhile).
 */
export const claimDueOrders = (limit: number) =>
  sql(
    'orders.claim-due-orders',
    `SELECT o.id, o.user_id, o.total_amount, o.expires_at FROM orders o
      WHERE ${DUE} AND ${NO_LIVE_PAYMENT}
      ORDER BY o.expires_at, o.id LIMIT $1 FOR UPDATE OF o SKIP LOCKED`,
    [limit],
  );

/** What --dry-run lists: the orders the next run would expire (no lock). */
export const selectDueOrders = (limit: number) =>
  sql(
    'orders.select-due-orders',
    `SELECT o.id, o.user_id, o.total_amount, o.expires_at FROM orders o
      WHERE ${DUE} AND ${NO_LIVE_PAYMENT}
      ORDER BY o.expires_at, o.id LIMIT $1`,
    [limit],
  );

/** Unpaid orders past their deadline that wait for a payment in flight (REQUESTED/PENDING) to settle. */
export const countDueWaitingForPayment = () =>
  sql(
    'orders.count-due-waiting-for-payment',
    `SELECT count(*)::int AS n FROM orders o WHERE ${DUE} AND NOT ${NO_LIVE_PAYMENT}`,
  );

/** Of the given (locked) orders, those with a live payment: read with a fresh snapshot, under the locks. */
export const selectOrdersWithLivePayment = (ids: number[]) =>
  sql(
    'orders.select-orders-with-live-payment',
    `SELECT DISTINCT order_id AS id FROM payments
      WHERE order_id = ANY($1::bigint[]) AND status IN ('REQUESTED', 'PENDING', 'SUCCEEDED', 'REFUND_REQUESTED')`,
    [ids],
  );

export const selectItemsOf = (ids: number[]) =>
  sql(
    'orders.select-items-of',
    `SELECT order_id, product_id AS "productId", quantity, unit_price AS "unitPrice"
       FROM order_items WHERE order_id = ANY($1::bigint[]) ORDER BY order_id, product_id`,
    [ids],
  );

/** CREATED -> EXPIRED for the given locked orders; returns each one's new version. */
export const markExpired = (ids: number[]) =>
  sql(
    'orders.mark-expired',
    `UPDATE orders SET status = 'EXPIRED', version = version + 1, updated_at = now()
      WHERE id = ANY($1::bigint[]) AND status = 'CREATED' RETURNING id, version`,
    [ids],
  );
