import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, seedProduct, startApi, useTestApi, type TestApi } from '../support/api.js';
import { runCli, startKept, stopCli, type KeptProcess } from '../support/cli.js';
import { GATEWAY_SECRET, startGateway, type RunningGateway } from '../support/gateway.js';
import { caughtUp } from '../support/handlers.js';
import { eventually } from '../support/wait.js';
import { countOutbox } from '../support/outbox-fixtures.js';
import { ensureTopics, pipelineTopics } from '../../src/lib/kafka/topics.js';
import { pointsFor } from '../../src/domain/points/rule.js';

/**
 * The payment window against payments, through real gateway simulator processes and the real CLI.
 * 200 orders with a 4-second window: a third left unpaid, a third paid through a gateway that settles
 * at once, a third paid through one whose callbacks come 5-6 s later (past the window; 30% FAILED),
 * some cancelled (unpaid, and paid then refunded), while pairs of `orders expire` run at once and a
 * relay and two collector groups run as processes (the default handlers, and a group running only
 * `points`: the two overlap on it). Every order must end PAID, CANCELLED or EXPIRED; stock returns
 * exactly for expired and cancelled orders; an order whose payment was in flight at its deadline is
 * not expired (PAID if charged, EXPIRED once its payment FAILED); money ends where the order's state
 * says, by the simulators' own records; one OrderExpired per expired order; loyalty points are the
 * rule on the PAID orders (paid then refunded ones earn and lose theirs), once whatever group applied
 * them. Verify finds a hand-corrupted balance, rebuild fixes it. Then a charge landing on an order
 * already EXPIRED or CANCELLED is refunded once, automatically.
 */
describe('orders expire beside payments', () => {
  const TTL = { ORDER_PAYMENT_TTL: '4s' };
  // 7.25%: amounts of 100-3000 earn 7-217 points, most of them rounded down.
  const POINTS = { POINTS_RATE: '0.0725' };
  const RATE_BP = 725;
  const PRODUCTS = 3;
  // Users, each placing its orders one after the other, all at once (more at once, on 2 busy cores,
  // stretched create -> pay past the 4 s window).
  const USERS = 8;
  // The fast gateway: every payment succeeds within 100 ms.
  const s = useTestApi({
    gateway: ['--settle-delay', '20ms-100ms', '--latency', '1ms-5ms', '--success-rate', '1'],
    env: TTL,
  });
  // The slow one: callbacks 5-6 s after the payment, past the 4 s window; 30% of payments fail.
  let slow: { gateway: RunningGateway; api: TestApi };
  beforeAll(async () => {
    const gateway = await startGateway([
      '--settle-delay',
      '5s-6s',
      '--latency',
      '1ms-5ms',
      '--success-rate',
      '0.7',
      '--callback-duplicate-rate',
      '0.2',
      '--seed',
      'expire',
    ]);
    const config = s.ctx.configWith({ ADMIN_TOKEN, ...TTL, GATEWAY_URL: gateway.url, GATEWAY_SECRET });
    slow = { gateway, api: await startApi(s.ctx, { config }) };
  }, 60_000);
  // The pipeline as processes: a relay, the default collector group, and a group of points alone.
  // Started without waiting for them to be ready: joining a group takes seconds, and a collector
  // reads its topics from the beginning, so it catches up on whatever was published before it joined.
  let pipeline: Promise<KeptProcess[]> = Promise.resolve([]);
  const pipelineEnv = () => ({ ...s.ctx.env, ...POINTS, LOG_LEVEL: 'info' });
  const POINTS_GROUP = () => `${s.ctx.config.kafka.groupId}-points`;
  beforeAll(async () => {
    await ensureTopics(s.ctx.kafka, pipelineTopics(s.ctx.config.kafka));
    const env = pipelineEnv();
    pipeline = Promise.all([
      startKept('relay', ['relay', 'run', '--lease', '3s'], env, /relay running/),
      startKept('collector', ['collector', 'run', '--session-timeout', '6s'], env, /collector running/),
      startKept(
        'collector points',
        ['collector', 'run', '--group', POINTS_GROUP(), '--handlers', 'points', '--session-timeout', '6s'],
        env,
        /collector running/,
      ),
    ]).then((started) => started.map((p) => p.proc));
    pipeline.catch(() => undefined); // awaited by the test (and afterAll)
  }, 60_000);
  afterAll(async () => {
    const procs = await pipeline.catch(() => []);
    await Promise.all(procs.map((p) => stopCli(p.child).catch(() => p.child.kill('SIGKILL'))));
    await slow?.api.close();
    await slow?.gateway.stop();
  });

  const expirePair = async () => {
    const runs = await Promise.all(
      [0, 1].map(() => runCli(['orders', 'expire', '--batch-size', '7', '--json'], s.ctx.env)),
    );
    // Two at once: one holds the lock; the other finds it taken (5) or runs after it (0).
    for (const r of runs) expect([0, 5], r.stderr).toContain(r.code);
    expect(runs.some((r) => r.code === 0)).toBe(true);
  };

  it('200 orders: unpaid ones expire, in-flight ones wait for their payment, stock, money and points end where the state says', async () => {
    // The pipeline's start (CLI starts, group joins) must not land in the orders' short payment window.
    await pipeline;
    const products: Array<{ id: number }> = [];
    for (let i = 0; i < PRODUCTS; i++)
      products.push(await seedProduct(s.api, { price: 100 * (i + 1), stock: 1000 }));
    type Kind = 'unpaid' | 'paid' | 'late';
    const orders: Array<{
      id: number;
      user: string;
      kind: Kind;
      cancel: boolean;
      items: [number, number][];
    }> = [];
    const kinds: Kind[] = ['unpaid', 'paid', 'late'];
    await Promise.all(
      Array.from({ length: USERS }, async (_, c) => {
        for (let i = 0; i < 200 / USERS; i++) {
          const n = c * (200 / USERS) + i;
          const kind = kinds[n % 3]!;
          const user = `u-${c}`;
          const items: [number, number][] = [[products[n % PRODUCTS]!.id, 1 + (n % 4)]];
          if (n % 5 === 0) items.push([products[(n + 1) % PRODUCTS]!.id, 2]);
          const api = kind === 'late' ? slow.api : s.api;
          const created = await api.call('POST', '/orders', {
            user,
            body: { items: items.map(([productId, quantity]) => ({ productId, quantity })) },
          });
          expect(created.status).toBe(201);
          const id = created.body.id as number;
          const cancel = kind !== 'late' && n % 4 === 0;
          orders.push({ id, user, kind, cancel, items });
          if (kind !== 'unpaid')
            expect((await api.call('POST', `/orders/${id}/pay`, { user })).status).toBe(202);
          if (kind === 'unpaid' && cancel)
            expect((await api.call('POST', `/orders/${id}/cancel`, { user })).status).toBe(200);
        }
      }),
    );
    // Paid ones cancelled once paid: refunded through the cancel path.
    for (const o of orders.filter((x) => x.kind === 'paid' && x.cancel)) {
      await eventually(
        async () => (await s.api.call('GET', `/orders/${o.id}`, { user: o.user })).body.status === 'PAID',
      );
      expect((await s.api.call('POST', `/orders/${o.id}/cancel`, { user: o.user })).status).toBe(200);
    }

    // The relay and both collector groups run while the expiry runs go on.
    const status = async () =>
      new Map(
        (await s.ctx.pool.query<{ id: number; status: string }>(`SELECT id, status FROM orders`)).rows.map(
          (r) => [Number(r.id), r.status],
        ),
      );
    // Pairs of runs until every order is final (the late third settles 5-6 s after its payment).
    await eventually(
      async () => {
        await expirePair();
        const st = await status();
        return orders.every((o) => ['PAID', 'CANCELLED', 'EXPIRED'].includes(st.get(o.id)!));
      },
      90_000,
      0,
    );

    const st = await status();
    const truth = async (o: (typeof orders)[number]) =>
      (o.kind === 'late' ? slow.gateway : s.gateway).byOrder(o.id);
    const payments = new Map(
      (
        await s.ctx.pool.query(
          `SELECT p.order_id, p.status, p.settled_at, (p.settled_at > o.expires_at) AS after_deadline
             FROM payments p JOIN orders o ON o.id = p.order_id`,
        )
      ).rows.map((r) => [Number(r.order_id), r]),
    );
    const expiredEvents = new Map(
      (
        await s.ctx.pool.query(
          `SELECT aggregate_id::bigint AS id, count(*)::int AS n FROM outbox_event WHERE event_type = 'OrderExpired' GROUP BY 1`,
        )
      ).rows.map((r) => [Number(r.id), r.n]),
    );
    let paidAfterDeadline = 0;
    let expiredAfterFailure = 0;
    for (const o of orders) {
      const final = st.get(o.id);
      const tx = await truth(o);
      const label = `order ${o.id} (${o.kind}${o.cancel ? ', cancelled' : ''})`;
      if (o.kind === 'unpaid') {
        expect(final, label).toBe(o.cancel ? 'CANCELLED' : 'EXPIRED');
        expect(tx, label).toEqual([]);
      } else if (o.kind === 'paid') {
        expect(final, label).toBe(o.cancel ? 'CANCELLED' : 'PAID');
        expect(
          tx.map((t) => t.status),
          label,
        ).toEqual([o.cancel ? 'REFUNDED' : 'SUCCESS']);
        expect(payments.get(o.id).status, label).toBe(o.cancel ? 'REFUNDED' : 'SUCCEEDED');
      } else {
        // In flight at its deadline: never expired while the gateway could still charge it.
        expect(tx, label).toHaveLength(1);
        expect(final, label).toBe(tx[0]!.status === 'SUCCESS' ? 'PAID' : 'EXPIRED');
        expect(payments.get(o.id).status, label).toBe(tx[0]!.status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED');
        if (final === 'PAID' && payments.get(o.id).after_deadline) paidAfterDeadline++;
        if (final === 'EXPIRED') expiredAfterFailure++;
      }
      // Money where the state says: nothing kept by a cancelled or expired order.
      if (final !== 'PAID')
        expect(
          tx.filter((t) => t.status === 'SUCCESS'),
          label,
        ).toEqual([]);
      expect(expiredEvents.get(o.id) ?? 0, label).toBe(final === 'EXPIRED' ? 1 : 0);
    }
    expect(paidAfterDeadline).toBeGreaterThan(0);
    expect(expiredAfterFailure).toBeGreaterThan(0);
    // Stock: what PAID orders took is gone, everything else is back.
    for (const p of products) {
      const taken = orders
        .filter((o) => st.get(o.id) === 'PAID')
        .flatMap((o) => o.items)
        .filter(([id]) => id === p.id)
        .reduce((sum, [, q]) => sum + q, 0);
      const { rows } = await s.ctx.pool.query('SELECT stock FROM products WHERE id = $1', [p.id]);
      expect(rows[0].stock, `product ${p.id}`).toBe(1000 - taken);
    }
    for (const g of [s.gateway, slow.gateway])
      expect(Object.values((await g.stats()).charges).every((n) => n === 1)).toBe(true);

    // Points: the rule on the PAID orders, per user; a paid order cancelled (refunded) earned and lost.
    const amount = (o: (typeof orders)[number]) =>
      o.items.reduce((sum, [id, q]) => sum + q * 100 * (1 + products.findIndex((p) => p.id === id)), 0);
    const expected = new Map<string, number>();
    for (const o of orders)
      if (st.get(o.id) === 'PAID')
        expected.set(o.user, (expected.get(o.user) ?? 0) + pointsFor(amount(o), RATE_BP));
    const refunded = orders.filter((o) => o.kind === 'paid' && o.cancel);
    expect(refunded.length).toBeGreaterThan(0);
    const balances = async () =>
      new Map(
        (await s.ctx.pool.query(`SELECT user_id, balance::int AS b FROM points_balances`)).rows.map((r) => [
          r.user_id as string,
          r.b as number,
        ]),
      );
    // Everything published, and both groups caught up: every OrderPaid / PaymentRefunded applied.
    await eventually(
      async () =>
        (await countOutbox(s.ctx.pool, `status <> 'PUBLISHED'`)) === 0 &&
        (await caughtUp(s.ctx, s.ctx.config.kafka.groupId)) &&
        (await caughtUp(s.ctx, POINTS_GROUP())),
      60_000,
      200,
    );
    // A balance row for every user with an entry (a user whose orders were all paid then refunded: 0).
    const earners = new Set(
      orders.filter((o) => st.get(o.id) === 'PAID' || (o.kind === 'paid' && o.cancel)).map((o) => o.user),
    );
    expect(Object.fromEntries(await balances())).toEqual(
      Object.fromEntries([...earners].map((u) => [u, expected.get(u) ?? 0])),
    );
    // One entry per event, each naming its order and the event the outbox holds for it.
    const { rows: ledger } = await s.ctx.pool.query(
      `SELECT l.order_id::int AS order_id, l.reason, l.delta::int AS delta, o.event_type
         FROM points_ledger l LEFT JOIN outbox_event o ON o.event_id = l.event_id ORDER BY l.id`,
    );
    const byOrder = new Map<number, Array<[string, number]>>();
    for (const e of ledger) {
      expect(e.event_type).toBe(e.reason === 'order-paid' ? 'OrderPaid' : 'PaymentRefunded');
      byOrder.set(e.order_id, [...(byOrder.get(e.order_id) ?? []), [e.reason, e.delta]]);
    }
    for (const o of orders) {
      const earn = pointsFor(amount(o), RATE_BP);
      const entries = byOrder.get(o.id) ?? [];
      const label = `order ${o.id} (${o.kind}${o.cancel ? ', cancelled' : ''}: ${st.get(o.id)})`;
      if (st.get(o.id) === 'PAID') expect(entries, label).toEqual([['order-paid', earn]]);
      else if (o.kind === 'paid' && o.cancel)
        expect(entries, label).toEqual([
          ['order-paid', earn],
          ['payment-refunded', -earn],
        ]);
      else expect(entries, label).toEqual([]);
    }
    // Applied once, whichever of the two groups did: both marked each event 'points' between them.
    const { rows: marks } = await s.ctx.pool.query(
      `SELECT count(*)::int AS n FROM event_inbox i JOIN outbox_event o USING (event_id)
        WHERE o.event_type IN ('OrderPaid', 'PaymentRefunded') AND 'points' = ANY (i.handlers)`,
    );
    expect(marks[0].n).toBe(ledger.length);
    // The API shows a user's balance and last entries.
    const user = refunded[0]!.user;
    const mine = await s.api.call('GET', '/users/me/points?limit=3', { user });
    expect(mine.status).toBe(200);
    expect((await s.api.call('GET', '/users/me/points?limit=0', { user })).status).toBe(400);
    expect((await s.api.call('GET', '/users/me/points')).status).toBe(401);
    expect(mine.body.balance).toBe(expected.get(user) ?? 0);
    const userEntries = ledger.filter((e) => orders.find((o) => o.id === e.order_id)?.user === user);
    expect(mine.body.entries).toHaveLength(Math.min(3, userEntries.length));
    for (const e of mine.body.entries) {
      expect(orders.find((o) => o.id === e.orderId)?.user).toBe(user);
      expect(e.eventId).toMatch(/^[0-9a-f-]{36}$/);
    }
  }, 180_000);

  it('verify finds a hand-corrupted points balance and a lost ledger entry (exit 6, naming the users); rebuild --target points fixes both', async () => {
    const env = { ...s.ctx.env, ...POINTS };
    const pointsDiffs = (r: { json: { differences: Array<{ check: string }> } }) =>
      r.json.differences.filter((d) => d.check === 'points');
    const { rows } = await s.ctx.pool.query(
      `UPDATE points_balances SET balance = balance + 11
        WHERE user_id = (SELECT min(user_id) FROM points_balances WHERE balance > 0)
        RETURNING user_id, balance::int AS b`,
    );
    const corrupted = rows[0] as { user_id: string; b: number };
    // Another user's earn entry lost (their balance is right, their ledger is not).
    const { rows: lost } = await s.ctx.pool.query(
      `DELETE FROM points_ledger WHERE id = (SELECT max(id) FROM points_ledger
         WHERE user_id = (SELECT max(user_id) FROM points_balances) AND reason = 'order-paid' AND delta > 0)
       RETURNING user_id, event_id::text, order_id::int, delta::int`,
    );
    const entry = lost[0] as { user_id: string; event_id: string; order_id: number; delta: number };
    expect(entry.user_id).not.toBe(corrupted.user_id);
    const ledgerSum = async (user: string) =>
      (await s.ctx.pool.query(`SELECT sum(delta)::int AS n FROM points_ledger WHERE user_id = $1`, [user]))
        .rows[0].n as number;
    // Exactly those two: every other user was compared and found right.
    const found = await runCli(['verify', '--json'], env, 120_000);
    expect(found.code, found.stderr).toBe(6);
    expect(pointsDiffs(found)).toEqual([
      {
        check: 'points',
        userId: corrupted.user_id,
        field: 'balance',
        expected: String(corrupted.b - 11),
        actual: String(corrupted.b),
      },
      {
        check: 'points',
        userId: entry.user_id,
        field: 'ledger',
        expected: String((await ledgerSum(entry.user_id)) + entry.delta),
        actual: String(await ledgerSum(entry.user_id)),
      },
    ]);
    expect(found.json.checked.pointsUsers).toBe(USERS);
    expect(found.json.inFlight.pointsUsers).toBe(0);

    // From event_log: the balance put right, the entry back with its event id.
    const rebuilt = await runCli(['rebuild', '--target', 'points', '--json'], env);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.json).toMatchObject({ target: 'points', dryRun: false, changed: 2 });
    const { rows: after } = await s.ctx.pool.query(
      `SELECT balance::int AS b FROM points_balances WHERE user_id = $1`,
      [corrupted.user_id],
    );
    expect(after[0].b).toBe(corrupted.b - 11);
    const { rows: back } = await s.ctx.pool.query(
      `SELECT user_id, order_id::int, delta::int, reason FROM points_ledger WHERE event_id = $1`,
      [entry.event_id],
    );
    expect(back).toEqual([
      { user_id: entry.user_id, order_id: entry.order_id, delta: entry.delta, reason: 'order-paid' },
    ]);
    const again = await runCli(['verify', '--json'], env, 120_000);
    expect(pointsDiffs(again)).toEqual([]);
  }, 120_000);

  it('a charge landing on an order already EXPIRED or CANCELLED is refunded once, automatically', async () => {
    const product = await seedProduct(s.api, { price: 900, stock: 10 });
    const placed: number[] = [];
    for (const user of ['late-expired', 'late-cancelled']) {
      const order = await slow.api.call('POST', '/orders', {
        user,
        body: { items: [{ productId: product.id, quantity: 1 }] },
      });
      expect((await slow.api.call('POST', `/orders/${order.body.id}/pay`, { user })).status).toBe(202);
      placed.push(order.body.id as number);
    }
    // While their payments are in flight, the orders leave CREATED by a path the rules do not take (an
    // operator by hand, a release before this one): the gateway's SUCCESS must not stick.
    await s.ctx.pool.query(`UPDATE orders SET status = 'EXPIRED' WHERE id = $1`, [placed[0]]);
    await s.ctx.pool.query(`UPDATE orders SET status = 'CANCELLED' WHERE id = $1`, [placed[1]]);
    const settled = await eventually(
      async () => {
        const { rows } = await s.ctx.pool.query(
          `SELECT order_id, status, refunded_at FROM payments WHERE order_id = ANY($1) ORDER BY order_id`,
          [placed],
        );
        return rows.every((r) => r.status === 'REFUNDED' || r.status === 'FAILED') && rows;
      },
      30_000,
      200,
    );
    for (const [i, id] of placed.entries()) {
      const tx = await slow.gateway.byOrder(id);
      expect(tx).toHaveLength(1);
      expect(settled[i].status).toBe(tx[0]!.status === 'FAILED' ? 'FAILED' : 'REFUNDED');
      expect(tx[0]!.status).not.toBe('SUCCESS');
      const { rows } = await s.ctx.pool.query(
        `SELECT event_type FROM outbox_event WHERE aggregate_type = 'order' AND aggregate_id = $1 ORDER BY id`,
        [String(id)],
      );
      const types = rows.map((r) => r.event_type);
      expect(types.filter((t) => t === 'OrderPaid')).toEqual([]);
      expect(types.filter((t) => t === 'PaymentRefunded')).toHaveLength(tx[0]!.status === 'FAILED' ? 0 : 1);
    }
    // A recovery run afterwards finds nothing to refund again.
    const recover = await runCli(['payments', 'recover', '--older-than', '1ms', '--json'], {
      ...s.ctx.env,
      GATEWAY_URL: slow.gateway.url,
      GATEWAY_SECRET,
    });
    expect(recover.code, recover.stderr).toBe(0);
    expect(recover.json.counts.refunded).toBe(0);
  }, 60_000);
  it('payments recover refunds, once, the charges it finds on expired orders (their callbacks lost)', async () => {
    const product = await seedProduct(s.api, { price: 800, stock: 10 });
    const orders: number[] = [];
    for (let i = 0; i < 5; i++) {
      const order = await s.api.call('POST', '/orders', {
        user: 'late-recover',
        body: { items: [{ productId: product.id, quantity: 1 }] },
      });
      // The payment as the pay route writes it, sent to the slow gateway with a callback address
      // nobody listens on (29801, this file's range): its callback is lost, only recover can learn.
      const { rows } = await s.ctx.pool.query(
        `INSERT INTO payments (order_id, amount, status) VALUES ($1, 800, 'PENDING') RETURNING payment_key`,
        [order.body.id],
      );
      const sent = await fetch(`${slow.gateway.url}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          paymentId: rows[0].payment_key,
          orderId: order.body.id,
          amount: 800,
          callbackUrl: 'http://127.0.0.1:29801/nobody',
        }),
      });
      expect(sent.ok).toBe(true);
      // Expired while its payment was in flight: a state only a hand or an older release makes.
      await s.ctx.pool.query(`UPDATE orders SET status = 'EXPIRED' WHERE id = $1`, [order.body.id]);
      orders.push(order.body.id);
    }
    const truth = async () =>
      Promise.all(orders.map(async (id) => (await slow.gateway.byOrder(id))[0]!.status));
    await eventually(async () => (await truth()).every((t) => t !== 'PENDING'), 20_000, 200);
    const charged = (await truth()).filter((t) => t === 'SUCCESS').length;
    expect(charged).toBeGreaterThan(0);
    const recover = () =>
      runCli(['payments', 'recover', '--older-than', '1ms', '--json'], {
        ...s.ctx.env,
        GATEWAY_URL: slow.gateway.url,
        GATEWAY_SECRET,
      });
    const first = await recover();
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.counts).toMatchObject({ refunded: charged, failed: orders.length - charged });
    expect((await truth()).filter((t) => t === 'SUCCESS')).toEqual([]);
    const { rows } = await s.ctx.pool.query(
      `SELECT status, count(*)::int AS n FROM payments WHERE order_id = ANY($1) GROUP BY status ORDER BY status`,
      [orders],
    );
    expect(rows.find((r) => r.status === 'REFUNDED')?.n ?? 0).toBe(charged);
    const again = await recover();
    expect(again.json.examined).toBe(0);
  }, 120_000);
});
