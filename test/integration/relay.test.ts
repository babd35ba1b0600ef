import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery, insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { createLogger } from '../../src/lib/log.js';
import { rows, exec } from '../../src/lib/db/query.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import { markPublished } from '../../src/lib/outbox/sql/mark.js';
import { claimEvents } from '../support/outbox-reference.js';
import { Relay, startRelay } from '../../src/jobs/relay/relay.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';
import { createEvent } from '../../src/lib/events/index.js';

const logger = createLogger('silent', { pretty: false });

describe('outbox relay', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  type Flags = Parameters<typeof parseRelayOptions>[0];
  const deps = (options: Flags) => ({
    config: ctx.config,
    pool: ctx.pool,
    logger,
    options: parseRelayOptions(options),
  });
  const relay = (options: Flags = {}) => new Relay(deps(options));
  const statusCounts = async () => {
    const { rows: r } = await ctx.pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM outbox_event GROUP BY status',
    );
    return Object.fromEntries(r.map((x) => [x.status, x.n])) as Record<string, number>;
  };

  it('claims in aggregate order: a row waits while an earlier row of its aggregate is leased elsewhere', async () => {
    const events = viewEvents(2, 3, 5_001); // products 5001, 5002, versions 1..3 interleaved
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    const a = await rows<ClaimedEvent>(ctx.pool, claimEvents('relay-a', 1, 60_000));
    expect(a.map((e) => [e.aggregateId, e.version])).toEqual([['5001', 1]]);
    const b = await rows<ClaimedEvent>(ctx.pool, claimEvents('relay-b', 100, 60_000));
    // 5001's later versions wait behind relay-a's lease; 5002 moves on, all its versions in one claim.
    expect(b.map((e) => [e.aggregateId, e.version])).toEqual([
      ['5002', 1],
      ['5002', 2],
      ['5002', 3],
    ]);
    // Fencing: once relay-a's lease is taken over, relay-a can no longer mark the row.
    await ctx.pool.query(
      `UPDATE outbox_event SET locked_until = now() - interval '1s' WHERE locked_by = 'relay-a'`,
    );
    const c = await rows<ClaimedEvent>(ctx.pool, claimEvents('relay-c', 100, 60_000));
    expect(c.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(await exec(ctx.pool, markPublished('relay-a', [a[0]!.id]))).toBe(0);
    const ids = (claimed: ClaimedEvent[]) => claimed.map((e) => e.id);
    expect(await exec(ctx.pool, markPublished('relay-c', ids(c)))).toBe(3);
    expect(await exec(ctx.pool, markPublished('relay-b', ids(b)))).toBe(3);
  });

  it('publishes 10,000 rows with two relays at once, every aggregate in order on one partition', async () => {
    const events = viewEvents(300, 34); // 10,200 rows
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    const [r1, r2] = await Promise.all([
      startRelay(deps({ batchSize: 200 })),
      startRelay(deps({ batchSize: 200 })),
    ]);
    await eventually(async () => (await statusCounts()).PENDING === undefined, 50_000, 200);
    const [s1, s2] = await Promise.all([r1.stop(), r2.stop()]);
    expect(s1.published).toBeGreaterThan(0);
    expect(s2.published).toBeGreaterThan(0);
    expect(s1.published + s2.published).toBe(events.length);
    const messages = await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog);
    const delivery = checkDelivery(
      messages,
      events.map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
    expect(delivery.splitKeys).toEqual([]);
    expect(delivery.duplicates).toBe(0);
    const first = messages.find((m) => m.headers['event-id'] === events[0]!.eventId)!;
    expect(first.key).toBe('1');
    expect(first.headers).toMatchObject({
      'event-type': 'ProductViewed',
      'aggregate-type': 'product',
      'aggregate-version': '1',
    });
    expect(JSON.parse(first.value!)).toEqual(events[0]);
  }, 90_000);

  it('a row Kafka rejects ends FAILED after max attempts; its aggregate waits, other aggregates flow', async () => {
    await ctx.pool.query(`DELETE FROM outbox_event`);
    const big = createEvent('ProductUpdated', 7_001, 1, {
      productId: 7_001,
      description: 'x'.repeat(1_200_000),
    });
    const after = createEvent('ProductUpdated', 7_001, 2, { productId: 7_001, name: 'after' });
    const others = viewEvents(20, 2, 7_100);
    await insertEvents(ctx.pool, [big, after, ...others], ctx.config.kafka.topics);
    const r = relay({ maxAttempts: 3, retryBackoff: '50ms' });
    const summary = await eventually(
      async () => {
        const s = await r.drain();
        return s.failed === 1 ? s : undefined;
      },
      30_000,
      100,
    );
    expect(summary!.published).toBe(others.length);
    const { rows: state } = await ctx.pool.query(
      `SELECT aggregate_version AS v, status, attempt_count AS attempts, last_error FROM outbox_event
        WHERE aggregate_id = '7001' ORDER BY id`,
    );
    expect(state[0]).toMatchObject({ v: 1, status: 'FAILED', attempts: 3 });
    expect(state[0].last_error).toMatch(/MESSAGE_TOO_LARGE|too large/i);
    expect(state[1]).toMatchObject({ v: 2, status: 'PENDING', attempts: 0 }); // held, not overtaking
    expect(await statusCounts()).toEqual({ PUBLISHED: others.length, FAILED: 1, PENDING: 1 });
    const delivery = checkDelivery(
      await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog),
      others.map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
  });

  it('wakes on NOTIFY without waiting for the poll interval', async () => {
    const r = await startRelay(deps({ pollInterval: '10m' }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the first (empty) cycle go to sleep
      const events = viewEvents(3, 1, 8_001);
      await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
      await eventually(() => r.stats.published >= 3, 10_000, 50);
    } finally {
      await r.stop();
    }
  });

  it('relay run --once drains and prints a JSON summary; bad flags exit 2', async () => {
    await insertEvents(ctx.pool, viewEvents(5, 2, 9_001), ctx.config.kafka.topics);
    const once = await runCli(['relay', 'run', '--once', '--json'], ctx.env);
    expect(once.code).toBe(0); // the earlier FAILED row is not a new failure; its held successor remains
    expect(once.json).toMatchObject({ published: 10, failed: 0, remaining: 1 });
    const bad = await runCli(['relay', 'run', '--once', '--lease', 'soon'], ctx.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--lease/);
    const zero = await runCli(['relay', 'run', '--once', '--batch-size', '0'], ctx.env);
    expect(zero.code).toBe(2);
  });
});
