import type pg from 'pg';
import type { AppConfig } from '../../lib/config/config.js';
import { one, rows } from '../../lib/db/query.js';
import type { Logger } from '../../lib/log.js';
import { insertPayment, selectOrderPayments } from '../../domain/payments/sql.js';
import type { GatewaySimulator } from '../../gateway/server.js';
import type { ApiClient } from './http.js';
import type { OrderItem } from './expected.js';
import { recoverDemoPayments } from './payments.js';
import { selectLateOrder, selectLateTrail } from './sql.js';

/**
 * A payment that lands after its order expired, refunded once by the system (docs/order-lifecycle.md
 * "A late charge is refunded, once, automatically"). The rules never lead there: cancel and expiry
 * both wait for a payment in flight, and a pay request after the deadline is 409. It is the safety
 * net for a payment accepted by a hand or by a release before those rules, so the demo takes that one
 * step itself and nothing more: the row the pay route writes (its own statement), for an order that
 * `orders expire` really expired (stock back, OrderExpired). Everything after is the system's own:
 * `payments recover` finds the payment the gateway never got and sends it (the simulator charges it),
 * the charge settles SUCCESS on an EXPIRED order (callback or recover), the payment goes
 * REFUND_REQUESTED and is refunded through the cancel's refund path, PaymentRefunded goes through the
 * pipeline and the points handler records that the order earned nothing.
 */

/** Suffix of the late order's user: its only order, so its points balance must stay 0. */
const LATE_USER = 'late';
/** The simulator declines 20% of payments (nothing charged): another payment then, at most this many. */
const MAX_SENT = 8;

export interface LateOrder {
  id: number;
  user: string;
  productId: number;
  items: OrderItem[];
}

export interface LatePaymentFigures {
  /** The order the late payment landed on (EXPIRED by `orders expire` first); null if none was placed. */
  orderId: number | null;
  /** Payments sent for it after its expiry (another one when the simulator declined one). */
  sent: number;
  /** Of those, charged by the simulator: late charges. */
  charged: number;
  /** Late charges refunded: REFUNDED in PostgreSQL and at the simulator. */
  refunded: number;
}

/**
 * Places the order the late payment will land on, through the API like any order, before the traffic
 * (full stock: it cannot be sold out). Left unpaid, it expires with the traffic's unpaid orders.
 */
export async function placeLateOrder(
  client: ApiClient,
  productId: number,
  userPrefix: string,
): Promise<LateOrder | { error: string }> {
  const user = `${userPrefix}${LATE_USER}`;
  const res = await client.call('POST', '/orders', {
    user,
    body: { items: [{ productId, quantity: 1 }] },
  });
  if (res.status !== 201)
    return { error: `late order: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}` };
  return { id: res.body.id, user, productId, items: res.body.items };
}

/**
 * Once `orders expire` has expired the late order: a payment for it, sent by `payments recover` (run at
 * once, then after each settle delay until nothing is unsettled), again while the simulator declines
 * it. Returns what happened; the check comes after the pipeline has caught up.
 */
export async function payAfterExpiry(
  deps: { pool: pg.Pool; config: AppConfig; logger: Logger },
  apiUrl: string,
  late: LateOrder,
  signal?: AbortSignal,
): Promise<{ figures: LatePaymentFigures; problems: string[] }> {
  const figures: LatePaymentFigures = { orderId: late.id, sent: 0, charged: 0, refunded: 0 };
  const order = (await one<{ status: string; total_amount: number }>(deps.pool, selectLateOrder(late.id)))!;
  if (order.status !== 'EXPIRED')
    return { figures, problems: [`late order ${late.id} is ${order.status}, not EXPIRED: no payment sent`] };
  while (figures.sent < MAX_SENT && !signal?.aborted) {
    // The one step the rules do not take: a payment accepted for an order already EXPIRED.
    await one(deps.pool, insertPayment(late.id, order.total_amount));
    figures.sent++;
    await recoverDemoPayments(deps, apiUrl, signal, true);
    const { status } = (await rows<{ status: string }>(deps.pool, selectOrderPayments(late.id))).at(-1)!;
    if (status === 'FAILED') continue; // declined: nothing charged, nothing to refund
    // Still unsettled after recover's rounds: not known to be charged (the payments check names it).
    if (status === 'REQUESTED' || status === 'PENDING') break;
    figures.charged++;
    if (status === 'REFUNDED') figures.refunded++;
    break;
  }
  return { figures, problems: [] };
}

/**
 * The late payment's self-check, once the pipeline has caught up: the order is still EXPIRED (or
 * CANCELLED), with one OrderExpired and no OrderPaid; its stock was taken and given back; exactly one
 * of its payments was charged, and it is REFUNDED, with one PaymentRefunded; the simulator's own record
 * has that payment charged once and refunded, and no charge of the order kept; the points handler
 * recorded the refund and the order kept no points.
 */
export async function checkLatePayment(
  pool: pg.Pool,
  simulator: GatewaySimulator,
  late: LateOrder,
  figures: LatePaymentFigures,
): Promise<string[]> {
  const problems: string[] = [];
  const label = `late payment of order ${late.id}`;
  const order = (await one<{ status: string }>(pool, selectLateOrder(late.id)))!;
  if (order.status !== 'EXPIRED' && order.status !== 'CANCELLED')
    problems.push(`${label}: the order is ${order.status}`);
  const payments = await rows<{ id: number; payment_key: string; status: string }>(
    pool,
    selectOrderPayments(late.id),
  );
  const listed = payments.map((p) => `${p.id} ${p.status}`).join(', ');
  if (figures.charged === 0) {
    problems.push(`${label}: none of the ${figures.sent} payment(s) sent was charged (${listed || 'none'})`);
    return problems;
  }
  const charged = payments.filter((p) => p.status !== 'FAILED');
  if (charged.length !== 1 || charged[0]!.status !== 'REFUNDED')
    problems.push(`${label}: payments ${listed}`);
  const stats = simulator.state.snapshot();
  for (const p of charged) {
    const tx = simulator.state.byPayment.get(p.payment_key);
    const charges = stats.charges[p.payment_key] ?? 0;
    if (tx?.status !== 'REFUNDED' || charges !== 1)
      problems.push(
        `${label}: the simulator has payment ${p.id} ${tx?.status ?? 'unknown'}, charged ${charges} time(s)`,
      );
  }
  const kept = simulator.state.findByOrder(late.id).filter((tx) => tx.status === 'SUCCESS');
  if (kept.length > 0) problems.push(`${label}: the simulator kept ${kept.length} charge(s) of the order`);
  const trail = (await one<{
    order_paid: number;
    payment_refunded: number;
    order_expired: number;
    stock_moves: number;
    stock_delta: number;
    points_entries: number;
    points: number;
  }>(pool, selectLateTrail(late.id, late.productId)))!;
  if (trail.order_paid !== 0 || trail.payment_refunded !== 1)
    problems.push(
      `${label}: ${trail.order_paid} OrderPaid and ${trail.payment_refunded} PaymentRefunded events (want 0 and 1)`,
    );
  if (order.status === 'EXPIRED' && trail.order_expired !== 1)
    problems.push(`${label}: ${trail.order_expired} OrderExpired events`);
  if (trail.stock_moves !== 2 || trail.stock_delta !== 0)
    problems.push(`${label}: its stock moves sum to ${trail.stock_delta} over ${trail.stock_moves} event(s)`);
  if (trail.points_entries !== 1 || trail.points !== 0)
    problems.push(
      `${label}: ${trail.points_entries} points entries summing to ${trail.points} (want one of 0)`,
    );
  return problems;
}
