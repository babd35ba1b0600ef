import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { groupMembers, publish } from '../support/collector.js';
import { caughtUp, groupLag } from '../support/handlers.js';
import { readTopic } from '../support/topic-reader.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { createEvent, orderCreatedFromV1, type DomainEvent } from '../../src/lib/events/index.js';
import { dlqTopic } from '../../src/lib/kafka/topics.js';
import { DLQ_HEADERS } from '../../src/lib/kafka/dead-letter.js';

const SECRET = 'whsec-collector-test-0123456789';
const SELECTED = ['OrderCreated', 'OrderPaid', 'OrderCancelled'];

/** Orders `from`..`to`: created, then paid or (every third) cancelled; and a product event, not selected. */
function orderEvents(from: number, to: number): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let o = from; o <= to; o++) {
    const items = [{ productId: 1, quantity: 1, unitPrice: 100 }];
    events.push(
      createEvent(
        'OrderCreated',
        o,
        1,
        orderCreatedFromV1({ orderId: o, userId: 'u', items, totalAmount: 100 }),
      ),
    );
    events.push(
      o % 3 === 0
        ? createEvent('OrderCancelled', o, 2, {
            orderId: o,
            userId: 'u',
            items,
            totalAmount: 100,
            previousStatus: 'CREATED',
          })
        : createEvent('OrderPaid', o, 2, { orderId: o, userId: 'u', paymentId: o, amount: 100 }),
    );
  }
  events.push(createEvent('ProductViewed', 1, from, { productId: 1, count: 1 }));
  return events;
}

/**
 * The webhook handler in `collector run` (a real child process) against a real HTTP receiver.
 */
describe('collector: the webhook handler', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  const children: ChildProcess[] = [];
  const collector = async (group: string, extra: string[] = []) => {
    const child = startCli(
      [
        'collector',
        'run',
        '--group',
        group,
        '--handlers',
        'webhook',
        '--webhook-events',
        SELECTED.join(','),
        '--session-timeout',
        '6s',
        ...extra,
      ],
      { ...ctx.env, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'info' },
    );
    children.push(child);
    await waitForOutput(child, /collector running/);
    return child;
  };
  const marked = async (ids: string[]) =>
    new Set(
      (
        await ctx.pool.query(
          `SELECT event_id::text FROM event_inbox WHERE 'webhook' = ANY (handlers) AND event_id = ANY($1::uuid[])`,
          [ids],
        )
      ).rows.map((r) => r.event_id as string),
    );

  const members = (group: string) => groupMembers(ctx, group);

  beforeAll(async () => {
    ctx = await createTestContext();
    receiver = await startWebhookReceiver(SECRET);
  });
  afterAll(async () => {
    for (const c of children) await stopCli(c, 'SIGKILL').catch(() => undefined);
    await receiver?.close();
    await ctx?.close();
  });

  it('signed, in order per aggregate after a 503 outage, and a 400 dead-lettered with its status', async () => {
    const events = orderEvents(1, 12);
    const refused = events.find((e) => e.eventType === 'OrderPaid' && e.aggregateId === '4')!;
    let down = true;
    receiver.respond = (r) =>
      down
        ? { status: 503 }
        : r.eventId === refused.eventId
          ? { status: 400, body: 'unknown order' }
          : { status: 200 };
    await publish(ctx, events);
    const group = `${ctx.id}-webhook`;
    const child = await collector(group);

    // The receiver is down: the group's partitions wait (nothing committed past the first events).
    await eventually(() => receiver.requests.length >= 5, 30_000);
    const memberBefore = await members(group);
    // Longer than the 6s session timeout: the retrying collector heartbeats, so it keeps its partitions.
    await new Promise((r) => setTimeout(r, 8_000));
    expect(await groupLag(ctx, group)).toBeGreaterThan(0);
    expect(await members(group)).toEqual(memberBefore);
    expect(memberBefore).toHaveLength(1);
    expect(receiver.requests.every((r) => r.answer && 'status' in r.answer && r.answer.status === 503)).toBe(
      true,
    );
    down = false;
    await eventually(() => caughtUp(ctx, group), 90_000, 250);
    expect(await stopCli(child)).toBe(0);

    const requests = receiver.requests;
    expect(requests.every((r) => r.verified)).toBe(true); // every signature verifies (standardwebhooks)
    const selected = events.filter((e) => SELECTED.includes(e.eventType));
    expect(requests.some((r) => r.eventType === 'ProductViewed')).toBe(false);
    // Every selected event acknowledged once; bodies carry the envelopes (CloudEvents data).
    const ok = requests.filter((r) => 'status' in r.answer && r.answer.status === 200);
    expect(ok.map((r) => r.eventId).sort()).toEqual(
      selected
        .filter((e) => e !== refused)
        .map((e) => e.eventId)
        .sort(),
    );
    for (const r of ok) expect(r.event).toEqual(events.find((e) => e.eventId === r.eventId));
    // In order per aggregate: an order's first request for version 2 comes after version 1 succeeded.
    for (const e of selected.filter((x) => x.version === 2)) {
      const created = selected.find((x) => x.aggregateId === e.aggregateId && x.version === 1)!;
      const firstOk = requests.findIndex(
        (r) => r.eventId === created.eventId && 'status' in r.answer && r.answer.status === 200,
      );
      const firstOfNext = requests.findIndex((r) => r.eventId === e.eventId);
      expect(firstOk, `order ${e.aggregateId}`).toBeLessThan(firstOfNext);
    }
    // Marks: delivered events only; the refused one is a dead letter with the status.
    const ids = selected.map((e) => e.eventId);
    expect([...(await marked(ids))].sort()).toEqual(ids.filter((id) => id !== refused.eventId).sort());
    const letters = await readTopic(ctx.kafka, dlqTopic(ctx.config.kafka.topics.order));
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!.value!).eventId).toBe(refused.eventId);
    expect(letters[0]!.headers).toMatchObject({
      [DLQ_HEADERS.errorKind]: 'rejected',
      [DLQ_HEADERS.responseStatus]: '400',
      [DLQ_HEADERS.consumerGroup]: group,
    });
    expect(letters[0]!.headers[DLQ_HEADERS.error]).toMatch(/HTTP 400/);
  }, 150_000);

  it('a SIGKILLed collector re-sends at most the unacknowledged events, with the same event id', async () => {
    const events = orderEvents(100, 219);
    const ids = new Set(events.filter((e) => SELECTED.includes(e.eventType)).map((e) => e.eventId));
    receiver.requests.length = 0;
    receiver.respond = () => ({ status: 200, delayMs: 15 });
    await publish(ctx, events);
    const group = `${ctx.id}-webhook-kill`;
    // A new group re-reads the first test's events too: delivered ones are marked, so not re-sent.
    const first = await collector(group, ['--batch-size', '5']);
    await eventually(() => new Set(receiver.requests.map((r) => r.eventId)).size >= ids.size / 2, 60_000, 20);
    expect(await stopCli(first, 'SIGKILL')).toBeNull();
    const before = receiver.requests.length;
    const ackedAtKill = await marked([...ids]);
    expect(ackedAtKill.size).toBeGreaterThan(0);
    expect(ackedAtKill.size).toBeLessThan(ids.size);

    const second = await collector(group, ['--batch-size', '5']);
    await eventually(() => caughtUp(ctx, group), 90_000, 250);
    expect(await stopCli(second)).toBe(0);

    const ours = receiver.requests.filter((r) => ids.has(r.eventId));
    expect(new Set(ours.map((r) => r.eventId))).toEqual(ids); // every event delivered
    const resent = receiver.requests.slice(before).filter((r) => ids.has(r.eventId));
    const sentBefore = new Set(receiver.requests.slice(0, before).map((r) => r.eventId));
    const again = resent.filter((r) => sentBefore.has(r.eventId));
    // Re-sent: only events the killed collector had not marked acknowledged.
    expect(again.filter((r) => ackedAtKill.has(r.eventId))).toEqual([]);
    for (const r of again) {
      const original = receiver.requests.find((o) => o.eventId === r.eventId)!;
      expect(r.headers['webhook-id']).toBe(original.headers['webhook-id']);
      expect(r.body).toBe(original.body);
    }
    // The first test's refused event is refused again by this new group (never marked), nothing else.
    expect(
      receiver.requests.filter((r) => !ids.has(r.eventId)).every((r) => r.eventType === 'OrderPaid'),
    ).toBe(true);
    expect(await marked([...ids])).toEqual(ids);
  }, 180_000);

  it('refuses webhook flags without the handler (exit 2) and the handler without WEBHOOK_URL (exit 3)', async () => {
    const flags = await runCli(['collector', 'run', '--webhook-events', 'OrderPaid'], ctx.env);
    expect(flags.code).toBe(2);
    expect(flags.stderr).toMatch(/--webhook-events/);
    const unknown = await runCli(['collector', 'run', '--handlers', 'audit,stock'], ctx.env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--handlers/);
    const noUrl = await runCli(['collector', 'run', '--handlers', 'webhook'], ctx.env);
    expect(noUrl.code).toBe(3);
    expect(noUrl.stderr).toMatch(/WEBHOOK_URL/);
  });
});
