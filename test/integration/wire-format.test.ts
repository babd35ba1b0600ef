import type { ChildProcess } from 'node:child_process';
import type { CloudEvent } from 'cloudevents';
import { HTTP } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { countOutbox, insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { readTopic, type ReadMessage } from '../support/topic-reader.js';
import { cloudEventOf, expectedAttributes, pick } from '../support/cloud-events.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { createEvent, orderCreatedFromV1, type DomainEvent } from '../../src/lib/events/index.js';
import { writeOutbox } from '../../src/lib/outbox/write.js';

const whsec = (key: string) => `whsec_${Buffer.from(key).toString('base64')}`;
/** The collector's secrets mid-rotation: the new one (Standard Webhooks form) and the previous, plain one. */
const SECRET = whsec('wire-format-test-key-0123456789');
const PREVIOUS = 'a-plain-previous-secret-0123';
/** The v2 LikeChanged below is left out: what a collector does with an event version is not this test's concern. */
const WEBHOOK_EVENTS = ['OrderCreated', 'OrderPaid', 'ProductViewed'];

function traffic(): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let o = 1; o <= 3; o++) {
    const items = [{ productId: o, quantity: 1, unitPrice: 100 }];
    events.push(
      createEvent(
        'OrderCreated',
        o,
        1,
        orderCreatedFromV1({ orderId: o, userId: 'u', items, totalAmount: 100 }),
      ),
    );
    events.push(createEvent('OrderPaid', o, 2, { orderId: o, userId: 'u', paymentId: o, amount: 100 }));
    events.push(createEvent('ProductViewed', o, 1, { productId: o, count: 1 }));
  }
  // A later schema version: the relay names it in ce_dataschema from the row's schema_version column.
  events.push({
    ...createEvent('LikeChanged', 1, 2, { productId: 1, userId: 'u', liked: true, likeCount: 1 }),
    schemaVersion: 2,
  });
  return events;
}

/**
 * What goes on the wire (issue 24), end to end with real processes: the relay (`relay run --once`,
 * lease mode) publishes outbox rows with CloudEvents binary headers, which the `cloudevents` package
 * reads; the collector's webhook handler (`collector run`) sends those events Standard-Webhooks-signed,
 * which the `standardwebhooks` package verifies, with either secret during a rotation.
 */
describe('wire format: CloudEvents on Kafka, Standard Webhooks on HTTP', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  let collector: ChildProcess | undefined;
  const events = traffic();
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const onWire = new Map<string, CloudEvent<unknown>>();

  beforeAll(async () => {
    ctx = await createTestContext();
    receiver = await startWebhookReceiver(SECRET);
    await writeOutbox(ctx.pool, events, ctx.config.kafka.topics);
  });
  afterAll(async () => {
    if (collector) await stopCli(collector, 'SIGKILL').catch(() => undefined);
    await receiver?.close();
    await ctx?.close();
  });

  it("every message the relay sends, on each event topic, is a valid CloudEvent by the cloudevents package's Kafka binding", async () => {
    const run = await runCli(['relay', 'run', '--once', '--json'], ctx.env);
    expect(run.code).toBe(0);
    const messages: ReadMessage[] = [];
    for (const topic of [ctx.config.kafka.topics.catalog, ctx.config.kafka.topics.order])
      messages.push(...(await readTopic(ctx.kafka, topic)));
    expect(messages).toHaveLength(events.length);
    for (const m of messages) {
      const ce = cloudEventOf(m);
      const e = byId.get(ce.id)!;
      // Binary mode: the value is the data, our envelope, byte for byte as the outbox holds it.
      expect({ ...pick(ce), data: ce.data }).toEqual({ ...expectedAttributes(e), data: e });
      expect(m.key).toBe(e.aggregateId);
      // The legacy headers stay during the change (docs/wire-format.md says when they go).
      expect(m.headers).toMatchObject({ 'event-id': e.eventId, 'aggregate-version': String(e.version) });
      onWire.set(ce.id, ce);
    }
    expect(onWire.get(events.at(-1)!.eventId)?.dataschema).toBe('urn:commerce:event:LikeChanged:v2');
  });

  it('the collector signs webhooks by Standard Webhooks: verified with either secret, refused when anything is off', async () => {
    collector = startCli(
      [
        ...['collector', 'run', '--group', `${ctx.id}-wire`, '--handlers', 'webhook'],
        ...['--webhook-events', WEBHOOK_EVENTS.join(',')],
      ],
      {
        ...ctx.env,
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_SECRET_PREVIOUS: PREVIOUS,
        LOG_LEVEL: 'info',
      },
    );
    await waitForOutput(collector, /collector running/, 60_000);
    const sent = events.filter((e) => WEBHOOK_EVENTS.includes(e.eventType));
    await eventually(() => new Set(receiver.requests.map((r) => r.eventId)).size === sent.length, 30_000);
    expect(new Set(receiver.requests.map((r) => r.eventId))).toEqual(new Set(sent.map((e) => e.eventId)));

    for (const r of receiver.requests) {
      const e = byId.get(r.eventId)!;
      expect(r.verified).toBe(true); // the new secret (the receiver's)
      const headers = r.headers as Record<string, string>;
      expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
      // ... and the previous one: receivers switch secrets without a gap.
      expect(new Webhook(whsec(PREVIOUS)).verify(r.body, headers)).toMatchObject({ id: e.eventId });
      expect(() => new Webhook(whsec('some-other-key-0123456789')).verify(r.body, headers)).toThrow(
        /signature/,
      );
      const changed = r.body.replace(`"aggregateId":"${e.aggregateId}"`, `"aggregateId":"9${e.aggregateId}"`);
      expect(changed).not.toBe(r.body);
      expect(() => new Webhook(SECRET).verify(changed, headers)).toThrow(/signature/);
      // The body: the same CloudEvent as on Kafka, in structured mode, its data the envelope.
      const ce = HTTP.toEvent({ headers, body: r.body }) as CloudEvent<unknown>;
      expect(ce.validate()).toBe(true);
      expect({ ...pick(ce), data: ce.data }).toEqual({ ...pick(onWire.get(e.eventId)!), data: e });
    }

    // A timestamp outside the tolerance (5 minutes either way): a replayed or a delayed request.
    const r = receiver.requests[0]!;
    const sentAt = Number(r.headers['webhook-timestamp']) * 1000;
    const verifyAt = (ms: number) => {
      vi.spyOn(Date, 'now').mockReturnValue(ms);
      try {
        return new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>);
      } finally {
        vi.restoreAllMocks();
      }
    };
    expect(() => verifyAt(sentAt + 4 * 60_000)).not.toThrow();
    expect(() => verifyAt(sentAt + 6 * 60_000)).toThrow(/too old/);
    expect(() => verifyAt(sentAt - 6 * 60_000)).toThrow(/too new/);
  }, 120_000);

  it('a RELAY_LEGACY_HEADERS that is neither true nor false exits 3 naming it, and publishes nothing', async () => {
    await insertEvents(ctx.pool, viewEvents(1, 1, 90_001), ctx.config.kafka.topics);
    const pending = `status = 'PENDING'`;
    expect(await countOutbox(ctx.pool, pending)).toBe(1);
    const run = await runCli(['relay', 'run', '--once', '--json'], {
      ...ctx.env,
      RELAY_LEGACY_HEADERS: 'on',
    });
    expect(run.code).toBe(3);
    expect(run.json.error.message).toMatch(/RELAY_LEGACY_HEADERS="on"/);
    expect(await countOutbox(ctx.pool, pending)).toBe(1);
  });
});
