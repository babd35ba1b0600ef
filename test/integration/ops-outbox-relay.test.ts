import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { freePort } from '../support/ports.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery, insertEvents } from '../support/outbox-fixtures.js';
import { createEvent, topicFor, type DomainEvent } from '../../src/lib/events/index.js';
import { EVENT_HEADERS } from '../../src/lib/kafka/event-headers.js';

/**
 * The operator's repair of FAILED outbox rows end to end: `outbox retry` puts them back in the queue
 * and the real relay (`relay run --once`) publishes them, with anything held behind them.
 */
const view = (productId: number, version: number) =>
  createEvent('ProductViewed', productId, version, { productId, count: version });

/** FAILED rows as the relay leaves them after its last attempt, with valid envelopes in payload. */
async function insertFailed(ctx: TestContext, events: DomainEvent[]): Promise<number[]> {
  const ids: number[] = [];
  for (const e of events) {
    const { rows } = await ctx.pool.query<{ id: string }>(
      `INSERT INTO outbox_event (event_id, aggregate_type, aggregate_id, aggregate_version, event_type,
                                 topic, partition_key, payload, status, attempt_count, last_error)
       VALUES ($1, $2, $3, $4, $5, $6, $3, $7, 'FAILED', 10, 'MESSAGE_TOO_LARGE')
       RETURNING id`,
      [
        e.eventId,
        e.aggregateType,
        e.aggregateId,
        e.version,
        e.eventType,
        topicFor(e, ctx.config.kafka.topics),
        JSON.stringify(e),
      ],
    );
    ids.push(Number(rows[0]!.id));
  }
  return ids;
}

async function statuses(ctx: TestContext): Promise<Record<string, string>> {
  const { rows } = await ctx.pool.query(`SELECT event_id::text, status FROM outbox_event`);
  return Object.fromEntries(rows.map((r) => [r.event_id, r.status]));
}

describe('outbox retry, then the relay publishes', () => {
  let ctx: TestContext;
  let topic: string;
  // Three aggregates whose first event ended FAILED; aggregate 101's next event waits behind it.
  const failed = [view(101, 1), view(102, 1), view(103, 1)];
  const heldBehind = view(101, 2);
  let ids: number[];

  const relayOnce = async () => {
    const result = await runCli(['relay', 'run', '--once', '--json'], ctx.env);
    expect(result.code, result.stderr).toBe(0);
    return result.json;
  };
  const onTopic = async () =>
    (await readTopic(ctx.kafka, topic)).map((m) => m.headers[EVENT_HEADERS.eventId]).sort();

  beforeAll(async () => {
    ctx = await createTestContext();
    topic = ctx.config.kafka.topics.catalog;
    ids = await insertFailed(ctx, failed);
    await insertEvents(ctx.pool, [heldBehind], ctx.config.kafka.topics);
  });
  afterAll(() => ctx?.close());

  it('without a retry the relay publishes nothing: FAILED rows stay, their successors wait', async () => {
    expect(await relayOnce()).toMatchObject({ published: 0, failed: 0, remaining: 1 });
    expect(await onTopic()).toEqual([]);
  });

  it('retry --id: those rows, and the event held behind one of them, end PUBLISHED and on the topic in order', async () => {
    const retry = await runCli(['outbox', 'retry', '--id', String(ids[0]), '--id', String(ids[1])], ctx.env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(await relayOnce()).toMatchObject({ published: 3, failed: 0, remaining: 0 });

    expect(await statuses(ctx)).toEqual({
      [failed[0]!.eventId]: 'PUBLISHED',
      [failed[1]!.eventId]: 'PUBLISHED',
      [failed[2]!.eventId]: 'FAILED',
      [heldBehind.eventId]: 'PUBLISHED',
    });
    const messages = await readTopic(ctx.kafka, topic);
    expect(messages.map((m) => m.headers[EVENT_HEADERS.eventId]).sort()).toEqual(
      [failed[0]!, failed[1]!, heldBehind].map((e) => e.eventId).sort(),
    );
    const expected = [failed[0]!.eventId, failed[1]!.eventId, heldBehind.eventId];
    expect(checkDelivery(messages, expected)).toEqual({
      missing: [],
      outOfOrder: [],
      duplicates: 0,
      splitKeys: [],
    });
    const published = messages.find((m) => m.headers[EVENT_HEADERS.eventId] === failed[0]!.eventId)!;
    expect(published.key).toBe('101');
    expect(JSON.parse(published.value!)).toEqual(failed[0]);
  });

  it('retry --all-failed: the last FAILED row is published too, nothing twice', async () => {
    const retry = await runCli(['outbox', 'retry', '--all-failed', '--json'], ctx.env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.json.retried).toMatchObject([{ id: ids[2] }]);
    expect(await relayOnce()).toMatchObject({ published: 1, failed: 0, remaining: 0 });

    expect(Object.values(await statuses(ctx))).toEqual(['PUBLISHED', 'PUBLISHED', 'PUBLISHED', 'PUBLISHED']);
    expect(await onTopic()).toEqual([...failed, heldBehind].map((e) => e.eventId).sort());
  });

  it('relay run --metrics-port serves /healthz and /metrics, as the Kubernetes probes expect', async () => {
    // A port nothing listens on (a random one could be another test's server: the probe would answer
    // from there while this relay fails to listen and exits 1).
    const port = await freePort();
    const relay = startCli(['relay', 'run', '--metrics-port', String(port)], ctx.env);
    let output = '';
    relay.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      // Refused until the server listens: eventually retries a fetch that throws.
      const health = await eventually(() => fetch(`http://127.0.0.1:${port}/healthz`));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      expect(await stopCli(relay, 'SIGTERM'), output).toBe(0);
    }
  });
});
