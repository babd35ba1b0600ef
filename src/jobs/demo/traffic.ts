import { errorMessage } from '../../lib/errors.js';
import type { ApiClient, ApiResponse } from './http.js';
import { Ledger, type OrderItem } from './expected.js';

export interface TrafficOptions {
  client: ApiClient;
  products: Array<{ id: number; stock: number }>;
  users: number;
  /** Orders to attempt; the traffic ends when they are all sent (or at the deadline). */
  orders: number;
  durationMs?: number;
  concurrency: number;
  /** Prefix of the X-USER-ID values, unique per run. */
  userPrefix: string;
  signal?: AbortSignal;
  onProgress?: (ordersSent: number) => void;
}

interface OpenOrder {
  id: number;
  items: OrderItem[];
  status: 'CREATED' | 'PAID' | 'CANCELLED' | 'EXPIRED';
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/**
 * Simulated shoppers over HTTP: `concurrency` workers, each owning a fixed subset of the users, so one
 * user's requests are sequential (the ledger then knows each like's final state) while users act
 * concurrently. Mix: views 50%, likes/unlikes 20%, orders 20%, payments (202: through the gateway)
 * and cancellations 10%.
 * Popular products are picked more often (a skewed draw), so some sell out and rankings differ.
 */
export async function runTraffic(options: TrafficOptions): Promise<Ledger> {
  const { client, products, signal } = options;
  const ledger = new Ledger(products);
  const deadline = options.durationMs ? Date.now() + options.durationMs : Infinity;
  const workers = Math.min(options.concurrency, options.users);
  const openOrders = new Map<string, OpenOrder[]>();
  let ordersSent = 0;
  const done = () => ordersSent >= options.orders || Date.now() >= deadline || signal?.aborted === true;
  const popular = () => products[Math.floor(products.length * Math.random() ** 1.8)]!.id;

  const send = async (
    what: string,
    request: () => Promise<ApiResponse>,
    onAnswer: (res: ApiResponse) => boolean,
  ) => {
    ledger.counts.requests++;
    try {
      const res = await request();
      if (!onAnswer(res))
        ledger.surprise(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    } catch (err) {
      ledger.surprise(`${what}: ${errorMessage(err)}`);
    }
  };

  const act = async (user: string) => {
    const r = Math.random();
    const productId = popular();
    if (r < 0.5) {
      return send(
        `view ${productId}`,
        () => client.call('GET', `/products/${productId}`),
        (res) => {
          if (res.status === 200) ledger.viewed(productId);
          return res.status === 200;
        },
      );
    }
    if (r < 0.7) {
      const like = Math.random() < 0.7;
      return send(
        `like ${productId}`,
        () => client.call(like ? 'POST' : 'DELETE', `/products/${productId}/likes`, { user }),
        (res) => {
          if (res.status === 200) ledger.liked(user, productId, res.body.liked === true);
          return res.status === 200;
        },
      );
    }
    const mine = openOrders.get(user) ?? [];
    const open = mine.filter((o) => o.status !== 'CANCELLED');
    if (r < 0.9 || open.length === 0) return placeOrder(user, mine);
    const order = pick(open);
    const cancel = order.status === 'PAID' || Math.random() < 0.3;
    return send(
      `${cancel ? 'cancel' : 'pay'} order ${order.id}`,
      () => client.call('POST', `/orders/${order.id}/${cancel ? 'cancel' : 'pay'}`, { user }),
      (res) => {
        // 409: already paid / cancelled / expired (its window closed) / a payment in flight: nothing moved.
        if (res.status !== (cancel ? 200 : 202)) return res.status === 409;
        if (cancel) ledger.cancelled(order.items);
        else ledger.counts.paid++;
        // A pay is accepted (202), not settled: the gateway decides; cancelling it later refunds it.
        order.status = cancel ? 'CANCELLED' : 'PAID';
        return true;
      },
    );
  };

  const placeOrder = async (user: string, mine: OpenOrder[]) => {
    if (done()) return;
    ordersSent++;
    options.onProgress?.(ordersSent);
    const wanted = new Map<number, number>();
    const lines = 1 + Math.floor(Math.random() * 3);
    for (let i = 0; i < lines; i++) wanted.set(popular(), 1 + Math.floor(Math.random() * 3));
    const items = [...wanted].map(([productId, quantity]) => ({ productId, quantity }));
    await send(
      'order',
      () => client.call('POST', '/orders', { user, body: { items } }),
      (res) => {
        if (res.status === 409) ledger.counts.soldOut++;
        if (res.status !== 201) return res.status === 409;
        const order: OpenOrder = { id: res.body.id, items: res.body.items, status: 'CREATED' };
        ledger.ordered(order.items);
        mine.push(order);
        openOrders.set(user, mine);
        return true;
      },
    );
  };

  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const users: string[] = [];
      for (let u = w; u < options.users; u += workers) users.push(`${options.userPrefix}${u + 1}`);
      while (!done()) await act(pick(users));
    }),
  );
  return ledger;
}
