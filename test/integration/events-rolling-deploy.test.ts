import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { committedOffsets, startTestCollector } from '../support/collector.js';
import { caughtUp } from '../support/handlers.js';
import { readTopic } from '../support/topic-reader.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { dlqTopic } from '../../src/lib/kafka/topics.js';
import {
  createEvent,
  definitionsUpTo,
  encodeEvent,
  eventDecoder,
  orderCreatedFromV1,
  type OrderItem,
} from '../../src/lib/events/index.js';
import { SCHEMAS_DIR } from '../../src/lib/events/published.js';

const SECRET = 'whsec-rolling-deploy-0123456789';

/** One message as written to order-events: the envelope's JSON (v1 as the old API wrote it: no schemaVersion). */
interface Written {
  eventId: string;
  orderId: number;
  version: number;
  type: 'OrderCreated' | 'OrderPaid' | 'OrderCancelled';
  schemaVersion: 1 | 2;
  items: OrderItem[];
  value: string;
}

const itemsOf = (o: number): OrderItem[] => [
  { productId: 1 + (o % 3), quantity: 1 + (o % 2), unitPrice: 100 * o },
  { productId: 4, quantity: o, unitPrice: 50 },
];
const total = (items: OrderItem[]) => items.reduce((n, i) => n + i.quantity * i.unitPrice, 0);
const at = new Date('2026-12-07T10:00:00Z');

/** OrderCreated by the old API (v1: written before versions existed) or by the new one (v2). */
function created(o: number, byNewApi: boolean): Written {
  const items = itemsOf(o);
  const v1 = { orderId: o, userId: `u${o}`, items, totalAmount: total(items) };
  const envelope = byNewApi
    ? createEvent('OrderCreated', o, 1, orderCreatedFromV1(v1), at)
    : {
        eventId: randomUUID(),
        eventType: 'OrderCreated',
        aggregateType: 'order',
        aggregateId: String(o),
        version: 1,
        occurredAt: at.toISOString(),
        payload: v1,
      };
  const schemaVersion = byNewApi ? 2 : 1;
  return {
    eventId: envelope.eventId,
    orderId: o,
    version: 1,
    type: 'OrderCreated',
    schemaVersion,
    items,
    value: JSON.stringify(envelope),
  };
}

/** The order's second event (OrderPaid, or OrderCancelled for every third order): v1 in either build. */
function settled(o: number): Written {
  const items = itemsOf(o);
  const event =
    o % 3 === 0
      ? createEvent(
          'OrderCancelled',
          o,
          2,
          { orderId: o, userId: `u${o}`, items, totalAmount: total(items), previousStatus: 'CREATED' },
          at,
        )
      : createEvent(
          'OrderPaid',
          o,
          2,
          { orderId: o, userId: `u${o}`, paymentId: o, amount: total(items) },
          at,
        );
  return {
    eventId: event.eventId,
    orderId: o,
    version: 2,
    type: event.eventType as Written['type'],
    schemaVersion: 1,
    items,
    value: encodeEvent(event),
  };
}

/** Sales per product the domain implies: created orders add units and amount, cancelled ones take them back. */
function expectedSales(events: Written[]) {
  const sales = new Map<number, { sales_count: number; sales_amount: number }>();
  for (const e of events) {
    if (e.type === 'OrderPaid') continue; // a paid order was counted when it was created
    const sign = e.type === 'OrderCreated' ? 1 : -1;
    for (const i of e.items) {
      const s = sales.get(i.productId) ?? { sales_count: 0, sales_amount: 0 };
      s.sales_count += sign * i.quantity;
      s.sales_amount += sign * i.quantity * i.unitPrice;
      sales.set(i.productId, s);
    }
  }
  return Object.fromEntries([...sales].sort(([a], [b]) => a - b));
}

/**
 * Issue 24, a rolling deploy: the old API wrote OrderCreated v1, the new one writes v2, interleaved on one
 * partition of order-events. An old collector (a registry without OrderCreated v2) applies everything
 * before the first v2 event and holds the partition there (never mis-applies it, never dead-letters it);
 * the new collector (the real process, the upgrade) takes over from the held offset: every event applied
 * once, v1 upcast, metrics exact, webhooks in order per aggregate.
 */
describe('events: a rolling deploy from OrderCreated v1 to v2', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    ctx = await createTestContext();
    receiver = await startWebhookReceiver(SECRET);
  });
  afterAll(async () => {
    await receiver?.close();
    await ctx?.close();
  });

  it('old reader holds at the first v2 event; the new collector applies all once, in order, metrics exact', async () => {
    // Orders 1-3 by the old API, 4-9 alternately by the new and an old one still serving; every order then
    // settles. The aggregates interleave: created(o), settled(o - 1), ...
    const events: Written[] = [];
    for (let o = 1; o <= 9; o++) {
      events.push(created(o, o >= 4 && o % 2 === 0));
      if (o > 1) events.push(settled(o - 1));
    }
    events.push(settled(9));
    const firstV2 = events.findIndex((e) => e.schemaVersion === 2);
    expect(firstV2).toBe(5);
    expect(events.slice(firstV2).some((e) => e.type === 'OrderCreated' && e.schemaVersion === 1)).toBe(true);

    const topic = ctx.config.kafka.topics.order;
    const group = `${ctx.config.kafka.groupId}-rolling`;
    const producer = createIdempotentProducer(ctx.kafka);
    await producer.connect();
    try {
      await producer.send({
        topic,
        ...SEND_ACKS_ALL,
        messages: events.map((e) => ({
          key: String(e.orderId),
          value: e.value,
          partition: 0,
          headers: { 'event-id': e.eventId, 'event-type': e.type },
        })),
      });
    } finally {
      await producer.disconnect();
    }

    // The old collector: this build's code with a registry that ends at OrderCreated v1.
    const registry = new Registry();
    const old = await startTestCollector(ctx, {
      groupId: group,
      registry,
      decoder: eventDecoder(definitionsUpTo({ OrderCreated: 1 })),
    });
    const held = async () =>
      (await registry.getSingleMetric('collector_held_unknown_version_total')!.get()).values.find(
        (v) => v.labels.topic === topic,
      )?.value ?? 0;
    try {
      // Held, and held again after the pause (fetched again, still not guessed at).
      await eventually(async () => (await held()) >= 2, 20_000);
      expect((await committedOffsets(ctx, group, topic))[0]).toBe(firstV2);
      expect(old.stats).toMatchObject({ consumed: firstV2, deadLettered: 0 });
    } finally {
      await old.stop();
    }
    const audited = async () =>
      (
        await ctx.pool.query<{ event_id: string }>(`SELECT event_id FROM event_log ORDER BY "offset"`)
      ).rows.map((r) => r.event_id);
    expect(await audited()).toEqual(events.slice(0, firstV2).map((e) => e.eventId));
    expect(await sales()).toEqual(expectedSales(events.slice(0, firstV2)));

    // The upgrade: the new collector, the real process, in the same group, with the webhook handler.
    const child = startCli(
      ['collector', 'run', '--group', group, '--handlers', 'audit,metrics,ranking,cache,webhook'],
      { ...ctx.env, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'info' },
    );
    try {
      await waitForOutput(child, /collector running/);
      await eventually(() => caughtUp(ctx, group), 30_000, 200);
      await eventually(() => receiver.requests.length >= events.length - firstV2, 10_000);
    } finally {
      expect(await stopCli(child, 'SIGTERM')).toBe(0);
    }

    // Every effect once: one audit row per event, none twice; the sales the domain implies.
    expect(await audited()).toEqual(events.map((e) => e.eventId));
    expect(await sales()).toEqual(expectedSales(events));
    // v1 and v2 alike reached the handlers in the current shape (the audit row keeps what was written).
    const { rows } = await ctx.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_log WHERE event_type = 'OrderCreated' AND envelope->>'schemaVersion' IS NULL`,
    );
    expect(rows[0]!.n).toBe(events.filter((e) => e.type === 'OrderCreated' && e.schemaVersion === 1).length);
    // Webhooks from the held event on, each once, in version order per aggregate.
    const delivered = receiver.requests.map((r) => r.eventId);
    expect([...delivered].sort()).toEqual(
      events
        .slice(firstV2)
        .map((e) => e.eventId)
        .sort(),
    );
    const byId = new Map(events.map((e) => [e.eventId, e]));
    for (let o = 1; o <= 9; o++) {
      const versions = delivered
        .map((id) => byId.get(id)!)
        .filter((e) => e.orderId === o)
        .map((e) => e.version);
      expect(versions, `order ${o}`).toEqual([...versions].sort((a, b) => a - b));
    }
    // Nothing was dead-lettered, by either build.
    expect(await readTopic(ctx.kafka, dlqTopic(topic))).toEqual([]);
  }, 60_000);

  it('events list, events schema and events check through the CLI (--json, exit codes)', async () => {
    const list = await runCli(['events', 'list', '--json'], ctx.env);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).types).toContainEqual(
      expect.objectContaining({
        eventType: 'OrderCreated',
        versions: [1, 2],
        current: 2,
        topic: ctx.config.kafka.topics.order,
      }),
    );
    const schema = await runCli(['events', 'schema', 'OrderCreated'], ctx.env);
    expect(schema.code, schema.stderr).toBe(0);
    expect(JSON.parse(schema.stdout).$id).toBe('urn:commerce:event:OrderCreated:v2');
    const unknown = await runCli(['events', 'schema', 'OrderCreated', '--version', '9', '--json'], ctx.env);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.message).toMatch(/OrderCreated has no version 9/);

    const dir = await mkdtemp(`${tmpdir()}/commerce-schemas-`);
    try {
      await cp(SCHEMAS_DIR, dir, { recursive: true });
      // A released v1 that said more than the code now does: a field the code removed.
      const file = `${dir}/events/OrderCreated/v1.json`;
      const v1 = JSON.parse(await readFile(file, 'utf8'));
      v1.properties.couponCode = { type: 'string' };
      await writeFile(file, JSON.stringify(v1));
      const check = await runCli(['events', 'check', '--dir', dir], ctx.env);
      expect(check.code).toBe(1);
      expect(check.stderr).toContain('OrderCreated v1: couponCode: removed-field');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  async function sales() {
    const { rows } = await ctx.pool.query<{ product_id: string; sales_count: number; sales_amount: number }>(
      `SELECT product_id, sales_count::int, sales_amount::int FROM product_metrics ORDER BY product_id`,
    );
    return Object.fromEntries(
      rows.map((r) => [Number(r.product_id), { sales_count: r.sales_count, sales_amount: r.sales_amount }]),
    );
  }
});
