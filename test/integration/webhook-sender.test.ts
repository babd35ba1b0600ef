import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createEvent, type DomainEvent } from '../../src/lib/events/index.js';
import { createLogger } from '../../src/lib/log.js';
import { SenderStoppedError, WebhookSender } from '../../src/jobs/collector/webhook/sender.js';
import { createWebhookMetrics, type WebhookMetrics } from '../../src/jobs/collector/webhook/metrics.js';
import type { WebhookOptions } from '../../src/jobs/collector/webhook/options.js';
import { WEBHOOK_HEADERS } from '../../src/jobs/collector/webhook/signature.js';
import { eventually } from '../support/wait.js';
import {
  startWebhookReceiver,
  type Answer,
  type ReceivedRequest,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

// The sender against a real HTTP receiver (node:http on 127.0.0.1): real sockets, real resets,
// real timeouts. Backoff is short here so the retries of a test take a moment, not minutes.
const SECRET = 'whsec-integration-0123456789';
const logger = createLogger('silent');
const receivers: WebhookReceiver[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(respond?: WebhookReceiver['respond'], port?: number) {
  const r = await startWebhookReceiver(SECRET, respond, port);
  receivers.push(r);
  return r;
}

function sender(url: string, options: Partial<WebhookOptions> = {}) {
  const registry = new Registry();
  const metrics = createWebhookMetrics(registry);
  const s = new WebhookSender(
    {
      url,
      secret: SECRET,
      eventTypes: null,
      timeoutMs: 2_000,
      concurrency: 4,
      backoff: { baseMs: 20, maxMs: 200 },
      ...options,
    },
    logger,
    metrics,
  );
  return { sender: s, metrics, registry };
}

async function count(metrics: WebhookMetrics, outcome: string): Promise<number> {
  const { values } = await metrics.deliveries.get();
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** `perOrder` events for each of `orders` orders, interleaved as a partition would hold them. */
function orderEvents(orders: number, perOrder: number): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let v = 1; v <= perOrder; v++) {
    for (let o = 1; o <= orders; o++) {
      events.push(
        createEvent('OrderPaid', 1000 + o, v, {
          orderId: 1000 + o,
          userId: `u${o}`,
          paymentId: v,
          amount: 100 * v,
        }),
      );
    }
  }
  return events;
}

/** The status the receiver answered, if it answered one. */
const statusOf = (q: ReceivedRequest) => ('status' in q.answer ? q.answer.status : undefined);
const never = () => new AbortController().signal;
const until = (check: () => boolean | Promise<boolean>) => eventually(check, 15_000, 20);

describe('webhook sender against a real HTTP receiver', () => {
  it('sends each event once, signed: the receiver verifies the signature and sees the envelope and its headers', async () => {
    const r = await receiver();
    const { sender: s, metrics } = sender(r.url);
    const events = orderEvents(5, 4);
    const outcomes = await s.deliver(events, never());

    expect(r.requests).toHaveLength(events.length);
    for (const req of r.requests) {
      expect(req.verified).toBe(true);
      const event = events.find((e) => e.eventId === req.eventId)!;
      expect(req.event).toEqual(event);
      expect(req.eventType).toBe(event.eventType);
      expect(req.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
      expect(req.headers[WEBHOOK_HEADERS.signature]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    }
    for (const e of events)
      expect(outcomes.get(e.eventId)).toEqual({ kind: 'delivered', status: 200, attempts: 1 });
    expect(await count(metrics, 'delivered')).toBe(events.length);
    expect((await metrics.duration.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(
      events.length,
    );
  });

  it('sends only the selected event types; the rest are skipped without a request', async () => {
    const r = await receiver();
    const { sender: s } = sender(r.url, { eventTypes: new Set(['OrderCancelled']) });
    const paid = createEvent('OrderPaid', 7, 2, { orderId: 7, userId: 'u', paymentId: 1, amount: 5 });
    const items = [{ productId: 1, quantity: 1, unitPrice: 5 }];
    const cancelled = createEvent('OrderCancelled', 7, 3, {
      orderId: 7,
      userId: 'u',
      items,
      totalAmount: 5,
      previousStatus: 'PAID',
    });
    const outcomes = await s.deliver([paid, cancelled], never());
    expect(outcomes.get(paid.eventId)).toEqual({ kind: 'skipped' });
    expect(outcomes.get(cancelled.eventId)?.kind).toBe('delivered');
    expect(r.requests.map((q) => q.eventId)).toEqual([cancelled.eventId]);
  });

  it('a receiver answering 503 for a while gets every event afterwards, in order per aggregate', async () => {
    let failing = true;
    const r = await receiver(() =>
      failing ? { status: 503, body: 'down for maintenance' } : { status: 204 },
    );
    const { sender: s, metrics } = sender(r.url, { concurrency: 3 });
    const events = orderEvents(4, 5);
    let retries = 0;
    const delivering = s.deliver(events, never(), async () => {
      retries += 1;
    });
    // Paused, not dropping: requests keep coming and fail until the receiver recovers.
    await until(() => r.requests.length >= 12);
    failing = false;
    const outcomes = await delivering;

    expect(retries).toBeGreaterThan(0);
    for (const e of events) expect(outcomes.get(e.eventId)).toMatchObject({ kind: 'delivered', status: 204 });
    expect(await count(metrics, 'delivered')).toBe(events.length);
    expect(await count(metrics, 'retried')).toBe(r.requests.filter((q) => statusOf(q) === 503).length);
    // Per aggregate, requests never go back in version, and the 2xx ones are exactly versions 1..5.
    for (let o = 1; o <= 4; o++) {
      const seen = r.requests.filter((q) => q.event.aggregateId === String(1000 + o));
      const versions = seen.map((q) => q.event.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(seen.filter((q) => statusOf(q) === 204).map((q) => q.event.version)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(seen.map((q) => q.eventId)).size).toBe(5);
    }
  });

  it('a 400 rejects the event at once with the status (one request); later events of its aggregate still go', async () => {
    const events = orderEvents(2, 3);
    const bad = events.find((e) => e.aggregateId === '1001' && e.version === 2)!;
    const r = await receiver((q) =>
      q.eventId === bad.eventId ? { status: 400, body: '{"error":"unknown order"}' } : { status: 200 },
    );
    const { sender: s, metrics } = sender(r.url);
    const outcomes = await s.deliver(events, never());

    expect(outcomes.get(bad.eventId)).toEqual({
      kind: 'rejected',
      status: 400,
      attempts: 1,
      error: 'HTTP 400: {"error":"unknown order"}',
    });
    expect(r.requests.filter((q) => q.eventId === bad.eventId)).toHaveLength(1);
    expect(r.requests).toHaveLength(events.length);
    expect([...outcomes.values()].filter((o) => o.kind === 'delivered')).toHaveLength(events.length - 1);
    expect(await count(metrics, 'rejected')).toBe(1);
    expect(await count(metrics, 'retried')).toBe(0);
  });

  it('408 and 429 are retried (honouring Retry-After); other 4xx and 3xx are not', async () => {
    const answers = new Map<string, Answer[]>();
    const [a, b, c, d] = orderEvents(4, 1);
    answers.set(a!.eventId, [{ status: 408 }, { status: 200 }]);
    answers.set(b!.eventId, [{ status: 429, headers: { 'retry-after': '0' } }, { status: 201 }]);
    answers.set(c!.eventId, [{ status: 404 }]);
    // A redirect is not followed (a POST's body would go to another URL): rejected like a 4xx.
    answers.set(d!.eventId, [{ status: 302, headers: { location: '/elsewhere' } }]);
    const r = await receiver((q) => answers.get(q.eventId)!.shift() ?? { status: 500 });
    const { sender: s } = sender(r.url);
    const outcomes = await s.deliver([a!, b!, c!, d!], never());
    expect(outcomes.get(a!.eventId)).toEqual({ kind: 'delivered', status: 200, attempts: 2 });
    expect(outcomes.get(b!.eventId)).toEqual({ kind: 'delivered', status: 201, attempts: 2 });
    expect(outcomes.get(c!.eventId)).toMatchObject({ kind: 'rejected', status: 404, attempts: 1 });
    expect(outcomes.get(d!.eventId)).toMatchObject({ kind: 'rejected', status: 302, attempts: 1 });
    expect(r.requests).toHaveLength(6);
  });

  it('retries a request that times out, and one whose connection is reset', async () => {
    const [slow, reset] = orderEvents(2, 1);
    const firsts = new Set<string>();
    const r = await receiver((q) => {
      const first = !firsts.has(q.eventId);
      firsts.add(q.eventId);
      if (!first) return { status: 200 };
      return q.eventId === slow!.eventId ? { hang: true } : { reset: true };
    });
    const { sender: s, metrics } = sender(r.url, { timeoutMs: 1_000 });
    const outcomes = await s.deliver([slow!, reset!], never());
    expect(outcomes.get(slow!.eventId)).toEqual({ kind: 'delivered', status: 200, attempts: 2 });
    expect(outcomes.get(reset!.eventId)).toEqual({ kind: 'delivered', status: 200, attempts: 2 });
    expect(r.requests.map((q) => q.eventId).sort()).toEqual(
      [slow!.eventId, slow!.eventId, reset!.eventId, reset!.eventId].sort(),
    );
    // The timed-out request was given up by the sender (its connection closed), not left open.
    await until(() => r.clientAborts === 1);
    expect(await count(metrics, 'retried')).toBe(2);
  });

  it('a receiver that is not listening (connection refused) pauses delivery until it is up', async () => {
    const probe = await receiver();
    const port = probe.port;
    await receivers.pop()!.close();
    const { sender: s, metrics } = sender(`http://127.0.0.1:${port}/hook`);
    const events = orderEvents(2, 2);
    const delivering = s.deliver(events, never());
    await until(async () => (await count(metrics, 'retried')) >= 4);
    const r = await receiver(undefined, port);
    const outcomes = await delivering;
    for (const e of events) expect(outcomes.get(e.eventId)?.kind).toBe('delivered');
    for (const aggregateId of ['1001', '1002']) {
      const mine = r.requests.map((q) => q.event).filter((e) => e.aggregateId === aggregateId);
      expect(mine.map((e) => e.version)).toEqual([1, 2]);
    }
  });

  it('never has more than `concurrency` requests in flight, across deliver calls of one sender', async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 40 }));
    const { sender: s } = sender(r.url, { concurrency: 3 });
    const [first, second] = [orderEvents(12, 2), orderEvents(12, 2)];
    const outcomes = await Promise.all([s.deliver(first, never()), s.deliver(second, never())]);
    expect(r.requests).toHaveLength(48);
    expect(outcomes[0].size + outcomes[1].size).toBe(48);
    expect(r.maxInFlight).toBe(3);
  });

  it('abort stops at once: in-flight requests are cancelled, waiting ones never sent, deliver rejects with the reason', async () => {
    const r = await receiver(() => ({ hang: true }));
    const { sender: s } = sender(r.url, { concurrency: 2, timeoutMs: 60_000 });
    const controller = new AbortController();
    const delivering = s.deliver(orderEvents(6, 2), controller.signal);
    await until(() => r.requests.length === 2);
    const reason = new Error('shutting down');
    const started = performance.now();
    controller.abort(reason);
    await expect(delivering).rejects.toBe(reason);
    // Far below the 60s request timeout: the abort, not a timeout, ended it.
    expect(performance.now() - started).toBeLessThan(5_000);
    await until(() => r.clientAborts === 2);
    await new Promise((done) => setTimeout(done, 300));
    expect(r.requests).toHaveLength(2);
  });

  it('stop: deliveries in flight finish, new ones are refused; past its timeoutMs those left are given up', async () => {
    let hang = false;
    const r = await receiver(() => (hang ? { hang: true } : { status: 200, delayMs: 200 }));
    const { sender: s } = sender(r.url, { timeoutMs: 60_000 });
    s.start();
    // Graceful: the delivery in hand finishes (acknowledged), the stop resolves after it.
    const inHand = s.deliver(orderEvents(2, 1), never());
    await until(() => r.requests.length === 2);
    await s.stop();
    expect([...(await inHand).values()].map((o) => o.kind)).toEqual(['delivered', 'delivered']);
    await expect(s.deliver(orderEvents(1, 1), never())).rejects.toBeInstanceOf(SenderStoppedError);
    await s.finished;

    // Forced: a delivery hanging on the receiver is given up at the deadline, unacknowledged.
    hang = true;
    const stuck = sender(r.url, { timeoutMs: 60_000 }).sender;
    stuck.start();
    const outcomes = new Map();
    const delivering = stuck.deliver(orderEvents(1, 1), never(), undefined, outcomes);
    await until(() => r.requests.length === 3);
    const started = performance.now();
    await stuck.stop({ timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(5_000); // the deadline, not the 60 s timeout
    // Not the events' fault: the collector pauses the partition (never a dead letter) and sends it again.
    await expect(delivering).rejects.toBeInstanceOf(SenderStoppedError);
    expect(outcomes.size).toBe(0);
  });

  it('abort during a backoff wait ends it too; a failing onRetry ends delivery with its error', async () => {
    const r = await receiver(() => ({ status: 503 }));
    const slow = sender(r.url, { backoff: { baseMs: 60_000, maxMs: 60_000 } }).sender;
    const controller = new AbortController();
    const delivering = slow.deliver(orderEvents(2, 1), controller.signal);
    await until(() => r.requests.length === 2);
    controller.abort(new Error('stop'));
    await expect(delivering).rejects.toThrow('stop');

    const rebalance = new Error('The group is rebalancing');
    const fast = sender(r.url).sender;
    await expect(
      fast.deliver(orderEvents(3, 1), never(), async () => {
        throw rebalance;
      }),
    ).rejects.toBe(rebalance);
    // Requests already on the wire may still be recorded for a moment; after that, nothing new comes.
    await new Promise((done) => setTimeout(done, 100));
    const sent = r.requests.length;
    await new Promise((done) => setTimeout(done, 500));
    expect(r.requests.length).toBe(sent);
  });
});
