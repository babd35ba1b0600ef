import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/log.js';
import { GatewayClient } from '../../src/lib/payments/gateway-client.js';
import { createGatewayMetrics } from '../../src/lib/payments/metrics.js';
import { maxCallDurationMs } from '../../src/lib/payments/options.js';
import type { GatewayClientOptions } from '../../src/lib/payments/types.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { eventually } from '../support/wait.js';

/** The client against the real simulator process: retries, timeouts and the breaker, seen from both ends. */
describe('GatewayClient against commerce gateway serve', () => {
  const running: RunningGateway[] = [];
  const start = async (flags: string[], port = 0) => {
    const gateway = await startGateway(flags, port);
    running.push(gateway);
    return gateway;
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });

  const logger = createLogger('silent');
  function client(url: string, overrides: Partial<GatewayClientOptions> = {}) {
    const registry = new Registry();
    const metrics = createGatewayMetrics(registry);
    const options: GatewayClientOptions = {
      url,
      callbackUrl: 'http://127.0.0.1:9/callback',
      timeoutMs: 300,
      retry: { attempts: 3, baseMs: 20, maxMs: 100 },
      breaker: { failureThreshold: 1000, halfOpenAfterMs: 1000 },
      ...overrides,
    };
    const gateway = new GatewayClient(options, logger, metrics);
    const metric = async (name: string, labels: Record<string, string> = {}) => {
      // A histogram's series (_count, _sum, _bucket) are values of the metric named without the suffix.
      const found = (await registry.getMetricsAsJSON()).find((m) => name.startsWith(m.name));
      const values = (found?.values ?? []) as {
        value: number;
        labels: Record<string, string | number>;
        metricName?: string;
      }[];
      return values
        .filter((v) => (v.metricName ?? found!.name) === name)
        .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((sum, v) => sum + v.value, 0);
    };
    return { gateway, options, metric };
  }

  it('retries failed attempts (500, hang, reset) until the gateway answers, charging each payment once', async () => {
    const gw = await start([
      '--failure-rate',
      '0.5',
      '--latency',
      '0ms-10ms',
      '--settle-delay',
      '1m',
      '--seed',
      'seed-2',
    ]);
    // Under this seed no payment meets more than 5 failures in a row (28 in all); a 1s timeout is far
    // above the 0-10ms latency, so every failed attempt is an injected one.
    const { gateway, metric } = client(gw.url, {
      timeoutMs: 1000,
      retry: { attempts: 8, baseMs: 10, maxMs: 50 },
    });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        gateway.requestPayment({ paymentId: `r-${i}`, orderId: i + 1, amount: 100 }),
      ),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const keys = results.map((r) => (r.ok ? r.value.transactionKey : ''));
    const stats = await gw.stats();
    expect(stats.failuresInjected).toBeGreaterThan(5);
    expect(stats.requests.payments).toBe(30 + stats.failuresInjected);
    expect(stats.transactions).toBe(30);
    expect(Object.values(stats.charges)).toEqual(Array(30).fill(1));
    // The answers are the gateway's transactions.
    for (const [i, key] of keys.entries()) {
      const found = await gateway.findByPayment(`r-${i}`);
      expect(found).toEqual({
        ok: true,
        value: [expect.objectContaining({ transactionKey: key, orderId: i + 1 })],
      });
    }
    expect(await metric('commerce_gateway_requests_total', { operation: 'pay', outcome: 'ok' })).toBe(30);
    expect(gateway.breakerState).toBe('closed');
  });

  it('bounds a slow gateway: "timeout" within attempts * (timeout + maxMs), every attempt sent', async () => {
    const gw = await start(['--latency', '5s', '--settle-delay', '1m']);
    const { gateway, options, metric } = client(gw.url);
    const started = performance.now();
    const result = await gateway.requestPayment({ paymentId: 'slow-1', orderId: 1, amount: 100 });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(options.retry.attempts * options.timeoutMs - 20);
    expect(elapsed).toBeLessThan(maxCallDurationMs(options) + 1000); // vs 3 x 5s unbounded
    expect((await gw.stats()).requests.payments).toBe(options.retry.attempts);
    expect(await metric('commerce_gateway_requests_total', { operation: 'pay', outcome: 'timeout' })).toBe(1);
    expect(await metric('commerce_gateway_request_duration_seconds_count', { outcome: 'timeout' })).toBe(1);

    // The caller's signal ends a call sooner, also as 'timeout'.
    const abortStarted = performance.now();
    const aborted = await gateway.requestPayment(
      { paymentId: 'slow-2', orderId: 2, amount: 100 },
      AbortSignal.timeout(100),
    );
    expect(aborted).toMatchObject({ ok: false, reason: 'timeout', message: 'aborted by the caller' });
    expect(performance.now() - abortStarted).toBeLessThan(options.timeoutMs);
  });

  it('does not retry a 4xx: "rejected" with the status, one request; lookups answer null or empty', async () => {
    const gw = await start(['--latency', '0ms', '--settle-delay', '1m']);
    const { gateway, metric } = client(gw.url);
    const first = await gateway.requestPayment({ paymentId: 'rej-1', orderId: 1, amount: 100 });
    expect(first).toMatchObject({ ok: true, value: { paymentId: 'rej-1', status: 'PENDING' } });
    const reused = await gateway.requestPayment({ paymentId: 'rej-1', orderId: 2, amount: 100 });
    expect(reused).toMatchObject({ ok: false, reason: 'rejected', status: 409 });
    const refund = await gateway.refund({ paymentId: 'rej-1', amount: 100 });
    expect(refund).toMatchObject({ ok: false, reason: 'rejected', status: 409 });
    const stats = await gw.stats();
    expect(stats.requests).toMatchObject({ payments: 2, refunds: 1 });
    expect(await metric('commerce_gateway_requests_total', { outcome: 'rejected' })).toBe(2);

    const key = first.ok ? first.value.transactionKey : '';
    expect(await gateway.findByTransactionKey(key)).toMatchObject({
      ok: true,
      value: { transactionKey: key },
    });
    expect(await gateway.findByTransactionKey('tx_nope')).toEqual({ ok: true, value: null });
    expect(await gateway.findByOrder(1)).toMatchObject({ ok: true, value: [{ transactionKey: key }] });
    expect(await gateway.findByOrder(99)).toEqual({ ok: true, value: [] });
    expect(await gateway.findByPayment('nope')).toEqual({ ok: true, value: [] });
    expect(gateway.breakerState).toBe('closed');
  });

  it('gateway down: "unavailable" fast, the breaker opens and sends nothing, half-opens after its reset time, closes when the gateway answers', async () => {
    const up = await start(['--latency', '0ms', '--settle-delay', '1m']);
    const port = up.port;
    const { gateway, options, metric } = client(up.url, {
      timeoutMs: 1000,
      retry: { attempts: 2, baseMs: 10, maxMs: 20 },
      breaker: { failureThreshold: 4, halfOpenAfterMs: 2000 },
    });
    const pay = (id: string) => gateway.requestPayment({ paymentId: id, orderId: 1, amount: 100 });
    expect((await pay('b-0')).ok).toBe(true);
    expect(await metric('commerce_gateway_breaker_state')).toBe(0);

    // Stopped process: connections are refused, each call fails fast after its 2 attempts.
    await up.stop();
    running.splice(running.indexOf(up), 1);
    const started = performance.now();
    const down = [await pay('b-1'), await pay('b-2')];
    expect(performance.now() - started).toBeLessThan(maxCallDurationMs(options));
    expect(down).toMatchObject([
      { ok: false, reason: 'unavailable' },
      { ok: false, reason: 'unavailable' },
    ]);
    // 4 consecutive failed attempts: open.
    const opened = performance.now();
    expect(gateway.breakerState).toBe('open');
    expect(await metric('commerce_gateway_breaker_state')).toBe(1);

    // While open a call is refused at once, without a request (checked below against a listening gateway).
    const openedAt = performance.now();
    for (let i = 0; i < 5; i++)
      expect(await pay(`b-open-${i}`)).toMatchObject({ ok: false, reason: 'breaker-open' });
    expect(performance.now() - openedAt).toBeLessThan(200);
    expect(performance.now() - opened).toBeLessThan(options.breaker.halfOpenAfterMs);
    expect(await metric('commerce_gateway_requests_total', { outcome: 'breaker_open' })).toBe(5);

    // halfOpenAfterMs after it opened, the breaker lets one test call through. Nothing shows the
    // moment: pay until the listening gateway has been called; that call was the test call. It fails,
    // so the breaker opens again at once.
    const failing = await start(['--failure-rate', '1', '--latency', '0ms', '--seed', 'x'], port);
    let n = 0;
    const tested = await eventually(
      async () => {
        const result = await pay(`b-probe-${++n}`);
        return (await failing.stats()).requests.payments > 0 && result;
      },
      10_000,
      50,
    );
    expect(tested.ok).toBe(false);
    expect((await failing.stats()).requests.payments).toBe(1);
    expect(gateway.breakerState).toBe('open');
    // Open again: nothing reaches the gateway, though it listens.
    for (let i = 0; i < 3; i++)
      expect(await pay(`b-reopened-${i}`)).toMatchObject({ ok: false, reason: 'breaker-open' });
    expect((await failing.stats()).requests.payments).toBe(1);
    await failing.stop();
    running.splice(running.indexOf(failing), 1);

    // A healthy gateway: the next test call (half-open while it runs, 400ms) closes the breaker. Pay
    // until a call succeeds, noting the breaker's state while each runs.
    const healthy = await start(['--latency', '400ms', '--settle-delay', '1m'], port);
    const probe = await eventually(
      async () => {
        const id = `b-probe-${++n}`;
        const states = new Set<string>();
        const gauges = new Set<number>();
        let answered = false;
        const paying = pay(id);
        const settle = () => void (answered = true);
        paying.then(settle, settle);
        while (!answered) {
          states.add(gateway.breakerState);
          gauges.add(await metric('commerce_gateway_breaker_state'));
          await new Promise((r) => setTimeout(r, 10));
        }
        const result = await paying;
        return result.ok && { id, result, states: [...states], gauges: [...gauges] };
      },
      10_000,
      50,
    );
    expect(probe.states).toContain('half-open');
    expect(probe.gauges).toContain(2);
    expect(probe.result).toMatchObject({ ok: true, value: { paymentId: probe.id, status: 'PENDING' } });
    expect(gateway.breakerState).toBe('closed');
    expect(await metric('commerce_gateway_breaker_state')).toBe(0);
    expect((await pay('b-after')).ok).toBe(true);
    expect((await healthy.stats()).requests.payments).toBe(2);
  });
});
