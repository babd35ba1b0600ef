import type { ChildProcess } from 'node:child_process';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { refuseEvents, startTestCollector } from '../support/collector.js';
import { caughtUp } from '../support/handlers.js';
import { readTopic } from '../support/topic-reader.js';
import {
  startWebhookReceiver,
  type ReceivedRequest,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { eventHeaders } from '../../src/lib/kafka/event-headers.js';
import { createEvent, encodeEvent, topicFor, type DomainEvent } from '../../src/lib/events/index.js';
import { dlqTopic } from '../../src/lib/kafka/topics.js';
import { DLQ_HEADERS } from '../../src/lib/kafka/dead-letter.js';
import { createLogger } from '../../src/lib/log.js';
import { createWebhookStep } from '../../src/jobs/collector/webhook-handler.js';
import { WebhookSender } from '../../src/jobs/collector/webhook/sender.js';
import { createWebhookMetrics } from '../../src/jobs/collector/webhook/metrics.js';

const SECRET = 'whsec-order-test-0123456789';

/** `hot` products with `versions` versions each, interleaved as live traffic is, plus `cold` products. */
function hotTraffic(firstProduct: number, hot: number, versions: number, cold: number): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let v = 1; v <= versions; v++)
    for (let p = firstProduct; p < firstProduct + hot; p++)
      events.push(createEvent('ProductViewed', p, v, { productId: p, count: 1 }));
  for (let p = firstProduct + hot; p < firstProduct + hot + cold; p++)
    for (let v = 1; v <= 2; v++) events.push(createEvent('ProductViewed', p, v, { productId: p, count: 1 }));
  return events;
}

/** As the relay publishes: keyed by aggregate id, in order, many messages per request. */
async function publishBatched(ctx: TestContext, events: DomainEvent[]) {
  const producer = createIdempotentProducer(ctx.kafka);
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 500) {
      const slice = events.slice(i, i + 500);
      await producer.send({
        topic: topicFor(slice[0]!, ctx.config.kafka.topics),
        ...SEND_ACKS_ALL,
        messages: slice.map((e) => ({ key: e.aggregateId, value: encodeEvent(e), headers: eventHeaders(e) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Per aggregate, the events whose first request reached the receiver after the first request of a
 * later version of the same aggregate ("product 1 got v2, v75, v3, ...").
 */
function outOfOrder(requests: ReceivedRequest[], events: DomainEvent[]): string[] {
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const seen = new Set<string>();
  const highest = new Map<string, number>();
  const late: string[] = [];
  for (const r of requests) {
    const e = byId.get(r.eventId);
    if (!e || seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    const top = highest.get(e.aggregateId) ?? 0;
    if (e.version < top) late.push(`product ${e.aggregateId} v${e.version} after v${top}`);
    else highest.set(e.aggregateId, e.version);
  }
  return late;
}

const acknowledged = (r: ReceivedRequest) => 'status' in r.answer && r.answer.status < 300;

/**
 * Issue 21, item 4: order per aggregate for the webhook whatever the backlog. Chunks of one partition
 * overlap (CHUNKS_IN_FLIGHT) for the effects that commute only; the webhook step of chunk k+1 waits
 * until chunk k is done, including its retries and its one-by-one narrowing.
 */
describe('collector: webhook order per aggregate through a backlog', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  const children: ChildProcess[] = [];
  const contexts: TestContext[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    receiver = await startWebhookReceiver(SECRET);
  });
  afterAll(async () => {
    for (const c of children) await stopCli(c, 'SIGKILL').catch(() => undefined);
    await receiver?.close();
    for (const c of contexts) await c.close();
    await ctx?.close();
  });

  it('receiver down 20 s under hot aggregates: every event first arrives in version order, none lost', async () => {
    // 5 hot products x 800 versions + 200 cold ones: several windows of two 500-event chunks per partition.
    const events = hotTraffic(1, 5, 800, 200);
    const refused = events.find((e) => e.aggregateId === '2' && e.version === 300)!;
    let down = true;
    receiver.requests.length = 0;
    receiver.respond = (r) =>
      down ? { status: 503 } : r.eventId === refused.eventId ? { status: 400 } : { status: 204, delayMs: 1 };
    const group = `${ctx.id}-order`;
    const wentDown = Date.now();
    const child = startCli(
      ['collector', 'run', '--group', group, '--handlers', 'audit,webhook', '--session-timeout', '10s'],
      { ...ctx.env, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'info' },
    );
    children.push(child);
    await waitForOutput(child, /collector running/);
    await publishBatched(ctx, events); // the backlog builds while the receiver is down
    await eventually(() => receiver.requests.length > 0, 30_000);
    await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - wentDown))));
    down = false;
    await eventually(() => caughtUp(ctx, group), 90_000, 250);
    expect(await stopCli(child)).toBe(0);

    const ours = receiver.requests.filter((r) => r.verified);
    expect(ours).toHaveLength(receiver.requests.length);
    expect(outOfOrder(receiver.requests, events)).toEqual([]);
    // Nothing lost: every event acknowledged but the refused one, which is a dead letter.
    const delivered = new Set(receiver.requests.filter(acknowledged).map((r) => r.eventId));
    expect(delivered.size).toBe(events.length - 1);
    expect(delivered.has(refused.eventId)).toBe(false);
    const letters = await readTopic(ctx.kafka, dlqTopic(ctx.config.kafka.topics.catalog));
    expect(letters.map((l) => JSON.parse(l.value!).eventId)).toEqual([refused.eventId]);
    expect(letters[0]!.headers[DLQ_HEADERS.errorKind]).toBe('rejected');
    // Different aggregates still went out side by side.
    expect(receiver.maxInFlight).toBeGreaterThan(1);
  }, 150_000);

  it('a chunk narrowed down to one event at a time still delivers before the next chunk', async () => {
    // In process for the webhook step: product 1000's v3 keeps failing in the database step, so its
    // chunk is retried and then applied one event at a time while the next chunk waits.
    const events = hotTraffic(1_000, 2, 150, 0);
    const failing = events.find((e) => e.aggregateId === '1000' && e.version === 3)!;
    receiver.requests.length = 0;
    receiver.respond = () => ({ status: 204 });
    // Its own topics and database: the first test's events stay out of this group's way.
    const own = await createTestContext();
    contexts.push(own);
    await publishBatched(own, events);
    const webhook = createWebhookStep(
      own.pool,
      new WebhookSender(
        {
          url: receiver.url,
          secret: SECRET,
          eventTypes: null,
          timeoutMs: 5_000,
          concurrency: 8,
          backoff: { baseMs: 20, maxMs: 200 },
        },
        createLogger('error', { pretty: false }),
        createWebhookMetrics(new Registry()),
      ),
      null,
    );
    const group = `${own.id}-narrow`;
    await refuseEvents(own.pool, [failing.eventId], 'keeps failing');
    const collector = await startTestCollector(own, {
      groupId: group,
      handlers: ['audit', 'webhook'],
      webhook,
      batchSize: 20,
      backoff: { baseMs: 150, maxMs: 300 },
    });
    try {
      await eventually(() => caughtUp(own, group), 60_000, 250);
    } finally {
      await collector.stop();
    }
    const ids = new Set(events.map((e) => e.eventId));
    const ours = receiver.requests.filter((r) => ids.has(r.eventId));
    expect(outOfOrder(ours, events)).toEqual([]);
    expect(new Set(ours.filter(acknowledged).map((r) => r.eventId)).size).toBe(events.length - 1);
    expect(ours.some((r) => r.eventId === failing.eventId)).toBe(false);
    expect(collector.stats.deadLettered).toBe(1);
  }, 90_000);
});
