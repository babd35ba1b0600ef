import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { verifyGatewayCallback } from '../../src/lib/payments/signature.js';
import type { GatewayTransaction } from '../../src/lib/payments/types.js';
import {
  GATEWAY_SECRET,
  postJson,
  startGateway,
  startReceiver,
  type RunningGateway,
} from '../support/gateway.js';
import { eventually } from '../support/wait.js';

/** The real simulator, `commerce gateway serve`, in a child process; every check goes over HTTP. */
describe('commerce gateway serve', () => {
  const running: RunningGateway[] = [];
  const start = async (flags: string[]) => {
    const gateway = await startGateway(flags);
    running.push(gateway);
    return gateway;
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });

  const payment = (paymentId: string, orderId = 1, amount = 1000, callbackUrl = 'http://127.0.0.1:9/cb') => ({
    paymentId,
    orderId,
    amount,
    callbackUrl,
  });

  it('is idempotent on paymentId: concurrent retries get one transaction, charged once', async () => {
    const gw = await start(['--latency', '20ms-60ms', '--settle-delay', '1m']);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postJson(`${gw.url}/payments`, payment('pay-1', 7, 2500))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as GatewayTransaction[];
    expect(new Set(bodies.map((b) => b.transactionKey)).size).toBe(1);
    expect(bodies[0]).toMatchObject({ paymentId: 'pay-1', orderId: 7, amount: 2500, status: 'PENDING' });

    // The same paymentId for another order or amount is refused, naming the field.
    const reuse = await postJson(`${gw.url}/payments`, payment('pay-1', 8, 2500));
    expect(reuse.status).toBe(409);
    expect(((await reuse.json()) as { error: string }).error).toMatch(/^paymentId/);

    const stats = await gw.stats();
    expect(stats.requests.payments).toBe(21);
    expect(stats.transactions).toBe(1);
    expect(stats.charges).toEqual({ 'pay-1': 1 });
  });

  it('answers 400 naming the field for a malformed payment, and creates nothing', async () => {
    const gw = await start(['--latency', '0ms']);
    const cases: [unknown, RegExp][] = [
      [{ orderId: 1, amount: 1, callbackUrl: 'http://x/cb' }, /^paymentId/],
      [{ paymentId: 'p', orderId: 'one', amount: 1, callbackUrl: 'http://x/cb' }, /^orderId/],
      [{ paymentId: 'p', orderId: 1, amount: 1.5, callbackUrl: 'http://x/cb' }, /^amount/],
      [{ paymentId: 'p', orderId: 1, amount: -1, callbackUrl: 'http://x/cb' }, /^amount/],
      [{ paymentId: 'p', orderId: 1, amount: 1, callbackUrl: 'not a url' }, /^callbackUrl/],
    ];
    for (const [body, pattern] of cases) {
      const answer = await postJson(`${gw.url}/payments`, body);
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { error: string }).error).toMatch(pattern);
    }
    const notJson = await fetch(`${gw.url}/payments`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect((await gw.stats()).transactions).toBe(0);
  });

  /** Sends each payment once; classifies the answer (a hang is cut by the client after 3s: far above the 0-5ms latency, even for 200 new connections on a busy machine). */
  async function outcomes(url: string, ids: string[]): Promise<string[]> {
    return Promise.all(
      ids.map(async (id, i) => {
        try {
          const answer = await postJson(`${url}/payments`, payment(id, i + 1), AbortSignal.timeout(3_000));
          await answer.arrayBuffer();
          return String(answer.status);
        } catch (err) {
          return (err as Error).name === 'TimeoutError' ? 'hang' : 'reset';
        }
      }),
    );
  }

  it('injects failures at --failure-rate (500, hang, reset), the same ones again under the same --seed', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `seeded-${i}`);
    const flags = ['--failure-rate', '0.3', '--latency', '0ms-5ms', '--settle-delay', '1m'];
    const first = await start([...flags, '--seed', 'alpha']);
    const got = await outcomes(first.url, ids);

    const failed = got.filter((o) => o !== '200');
    expect(failed.length / ids.length).toBeGreaterThan(0.2);
    expect(failed.length / ids.length).toBeLessThan(0.4);
    for (const kind of ['500', 'hang', 'reset']) expect(got).toContain(kind);
    const stats = await first.stats();
    expect(stats.failuresInjected).toBe(failed.length);
    expect(stats.failuresByKind).toEqual({
      error: got.filter((o) => o === '500').length,
      hang: got.filter((o) => o === 'hang').length,
      reset: got.filter((o) => o === 'reset').length,
    });
    // A 500 refuses before charging; a hang or a reset loses the answer of a charge that happened.
    expect(stats.transactions).toBe(ids.length - got.filter((o) => o === '500').length);
    const lostAnswer = ids[got.findIndex((o) => o === 'reset')]!;
    const found = (await (await fetch(`${first.url}/payments?paymentId=${lostAnswer}`)).json()) as {
      items: GatewayTransaction[];
    };
    expect(found.items).toHaveLength(1);

    const again = await start([...flags, '--seed', 'alpha']);
    expect(await outcomes(again.url, ids)).toEqual(got);
    const other = await start([...flags, '--seed', 'beta']);
    expect(await outcomes(other.url, ids)).not.toEqual(got);
  });

  it('settles after --settle-delay and calls back, signed, losing and duplicating shares of the callbacks', async () => {
    const receiver = await startReceiver();
    try {
      const gw = await start([
        '--latency',
        '0ms',
        '--settle-delay',
        '50ms-300ms',
        '--success-rate',
        '0.7',
        '--callback-loss-rate',
        '0.2',
        '--callback-duplicate-rate',
        '0.3',
        '--seed',
        'callbacks',
      ]);
      const n = 300;
      const created = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const answer = await postJson(
            `${gw.url}/payments`,
            payment(`cb-${i}`, 1000 + i, 100 + i, receiver.url),
          );
          expect(answer.status).toBe(200);
          return (await answer.json()) as GatewayTransaction;
        }),
      );
      const stats = (await eventually(async () => {
        const s = await gw.stats();
        const done = s.callbacks.sent === n - s.callbacks.lost + s.callbacks.duplicated;
        return done && receiver.received.length === s.callbacks.sent ? s : undefined;
      }, 20_000))!;
      expect(stats.callbacks.failed).toBe(0);
      expect(stats.callbacks.lost / n).toBeGreaterThan(0.12);
      expect(stats.callbacks.lost / n).toBeLessThan(0.28);
      const delivered = n - stats.callbacks.lost;
      expect(stats.callbacks.duplicated / delivered).toBeGreaterThan(0.2);
      expect(stats.callbacks.duplicated / delivered).toBeLessThan(0.4);

      // Every callback verifies with GATEWAY_SECRET and says what GET /payments/:key says.
      const byKey = new Map(created.map((t) => [t.transactionKey, t]));
      const times = new Map<string, number>();
      for (const { headers, body } of receiver.received) {
        const ts = headers['x-gateway-timestamp'] as string;
        const sig = headers['x-gateway-signature'] as string;
        expect(verifyGatewayCallback(GATEWAY_SECRET, ts, sig, body)).toBe(true);
        expect(verifyGatewayCallback('wrong-secret', ts, sig, body)).toBe(false);
        const callback = JSON.parse(body) as GatewayTransaction;
        expect(byKey.get(callback.transactionKey)).toMatchObject({
          paymentId: callback.paymentId,
          orderId: callback.orderId,
          amount: callback.amount,
        });
        const truth = (await (
          await fetch(`${gw.url}/payments/${callback.transactionKey}`)
        ).json()) as GatewayTransaction;
        expect(truth).toMatchObject({ status: callback.status, settledAt: callback.settledAt });
        expect(callback.reason).toBe(truth.reason);
        if (callback.status === 'FAILED')
          expect(['LIMIT_EXCEEDED', 'INVALID_CARD']).toContain(callback.reason);
        times.set(callback.transactionKey, (times.get(callback.transactionKey) ?? 0) + 1);
      }
      expect(times.size).toBe(delivered);
      expect([...times.values()].filter((t) => t === 2)).toHaveLength(stats.callbacks.duplicated);

      // Every payment is settled at the gateway, lost callback or not, about --success-rate of them SUCCESS.
      const all = await Promise.all(
        created.map(
          async (t) =>
            (await (await fetch(`${gw.url}/payments/${t.transactionKey}`)).json()) as GatewayTransaction,
        ),
      );
      expect(all.every((t) => t.status === 'SUCCESS' || t.status === 'FAILED')).toBe(true);
      const successShare = all.filter((t) => t.status === 'SUCCESS').length / n;
      expect(successShare).toBeGreaterThan(0.6);
      expect(successShare).toBeLessThan(0.8);
      expect(Object.values(stats.charges).every((c) => c === 1)).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('answers lookups by key, order and payment; refunds SUCCESS payments only, idempotently', async () => {
    const gw = await start(['--latency', '0ms', '--settle-delay', '100ms', '--success-rate', '1']);
    const one = (await (
      await postJson(`${gw.url}/payments`, payment('look-1', 42, 500))
    ).json()) as GatewayTransaction;
    await postJson(`${gw.url}/payments`, payment('look-2', 42, 700));

    // PENDING cannot be refunded yet.
    const early = await postJson(`${gw.url}/refunds`, { paymentId: 'look-1', amount: 500 });
    expect(early.status).toBe(409);

    const byKey = await fetch(`${gw.url}/payments/${one.transactionKey}`);
    expect(byKey.status).toBe(200);
    expect(await byKey.json()).toMatchObject({
      transactionKey: one.transactionKey,
      orderId: 42,
      createdAt: expect.any(String),
    });
    expect((await fetch(`${gw.url}/payments/tx_unknown`)).status).toBe(404);
    const byOrder = (await (await fetch(`${gw.url}/payments?orderId=42`)).json()) as {
      items: GatewayTransaction[];
    };
    expect(byOrder.items.map((t) => t.paymentId).sort()).toEqual(['look-1', 'look-2']);
    expect(await (await fetch(`${gw.url}/payments?orderId=43`)).json()).toEqual({ items: [] });
    expect(await (await fetch(`${gw.url}/payments?paymentId=nope`)).json()).toEqual({ items: [] });
    expect((await fetch(`${gw.url}/payments?orderId=x`)).status).toBe(400);

    await eventually(async () => {
      const t = (await (
        await fetch(`${gw.url}/payments/${one.transactionKey}`)
      ).json()) as GatewayTransaction;
      return t.status === 'SUCCESS' && t.settledAt;
    });
    expect((await postJson(`${gw.url}/refunds`, { paymentId: 'look-1', amount: 499 })).status).toBe(409);
    expect((await postJson(`${gw.url}/refunds`, { paymentId: 'unknown', amount: 1 })).status).toBe(404);
    expect((await postJson(`${gw.url}/refunds`, { paymentId: 'look-1' })).status).toBe(400);
    for (let i = 0; i < 2; i++) {
      const refund = await postJson(`${gw.url}/refunds`, { paymentId: 'look-1', amount: 500 });
      expect(refund.status).toBe(200);
      expect(await refund.json()).toMatchObject({
        transactionKey: one.transactionKey,
        paymentId: 'look-1',
        status: 'REFUNDED',
      });
    }
    const after = (await (await fetch(`${gw.url}/payments?paymentId=look-1`)).json()) as {
      items: GatewayTransaction[];
    };
    expect(after.items[0]!.status).toBe('REFUNDED');
    // A retried payment after the refund is still the same transaction: no new charge.
    const retried = (await (
      await postJson(`${gw.url}/payments`, payment('look-1', 42, 500))
    ).json()) as GatewayTransaction;
    expect(retried).toMatchObject({ transactionKey: one.transactionKey, status: 'REFUNDED' });
    const stats = await gw.stats();
    expect(stats.requests.refunds).toBe(6);
    expect(stats.charges).toEqual({ 'look-1': 1, 'look-2': 1 });
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });

  it('stops cleanly on SIGTERM with a request hanging; refuses to start without GATEWAY_SECRET or with a bad flag', async () => {
    const gw = await startGateway(['--failure-rate', '1', '--latency', '0ms', '--seed', 'hang']);
    // Find a request that hangs (the seed makes it the same every run) and leave it hanging.
    const hanging = postJson(`${gw.url}/payments`, payment('stop-1')).catch((err: Error) => err);
    await eventually(async () => (await gw.stats()).failuresByKind.hang === 1);
    const started = Date.now();
    expect(await gw.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    await hanging;

    const { runCli } = await import('../support/cli.js');
    const noSecret = await runCli(['gateway', 'serve', '--port', '0'], { GATEWAY_SECRET: '' });
    expect(noSecret.code).toBe(3);
    expect(noSecret.stderr).toMatch(/GATEWAY_SECRET/);
    const badRate = await runCli(['gateway', 'serve', '--port', '0', '--failure-rate', '2'], {
      GATEWAY_SECRET: 's',
    });
    expect(badRate.code).toBe(2);
    expect(badRate.stderr).toMatch(/rate/);
    const badLatency = await runCli(['gateway', 'serve', '--port', '0', '--latency', 'fast'], {
      GATEWAY_SECRET: 's',
    });
    expect(badLatency.code).toBe(2);
    expect(badLatency.stderr).toMatch(/latency|duration/);
  });

  afterAll(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });
});
