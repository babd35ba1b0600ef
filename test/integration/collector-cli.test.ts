import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { committedOffsets, endOffsets, metricsRow, publish } from '../support/collector.js';
import { freePort } from '../support/ports.js';
import { createEvent, orderCreatedFromV1 } from '../../src/lib/events/index.js';

describe('commerce collector run', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('consumes until SIGTERM, then commits, leaves the group and exits 0 with a summary', async () => {
    const port = await freePort();
    const child = startCli(['collector', 'run', '--metrics-port', String(port)], {
      ...ctx.env,
      LOG_LEVEL: 'info',
    });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    try {
      await waitForOutput(child, /collector running/);
      await publish(ctx, [
        createEvent('ProductViewed', 4, 1, { productId: 4, count: 3 }),
        createEvent(
          'OrderCreated',
          300,
          1,
          orderCreatedFromV1({
            orderId: 300,
            userId: 'u',
            items: [{ productId: 4, quantity: 1, unitPrice: 900 }],
            totalAmount: 900,
          }),
        ),
      ]);
      await eventually(async () => (await metricsRow(ctx, 4))?.sales_count === 1);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/collector_events_consumed_total\{[^}]*topic="[^"]*catalog-events"[^}]*\} 1/);
      expect(metrics).toMatch(/collector_batch_duration_seconds_count/);
    } finally {
      expect(await stopCli(child, 'SIGTERM')).toBe(0);
    }
    expect(stdout).toMatch(
      /Collector stopped: 2 event\(s\) applied, 0 duplicate\(s\) skipped, 0 dead-lettered/,
    );
    for (const topic of Object.values(ctx.config.kafka.topics)) {
      const [committed, end] = await Promise.all([
        committedOffsets(ctx, ctx.config.kafka.groupId, topic),
        endOffsets(ctx, topic),
      ]);
      end.forEach((high, p) => expect(high === 0 ? 0 : committed[p]).toBe(high));
    }
    expect(await metricsRow(ctx, 4)).toMatchObject({ view_count: 3, sales_amount: 900 });
  });

  it("--topics names topics without KAFKA_TOPIC_PREFIX and consumes this deployment's topic", async () => {
    // Before: `--topics order-events` subscribed to the bare topic, another deployment's on a shared broker.
    const group = `${ctx.config.kafka.groupId}-topics`;
    const child = startCli(['collector', 'run', '--group', group, '--topics', 'order-events'], {
      ...ctx.env,
      LOG_LEVEL: 'info',
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      await waitForOutput(child, /collector running/);
      await publish(ctx, [
        createEvent(
          'OrderCreated',
          301,
          1,
          orderCreatedFromV1({
            orderId: 301,
            userId: 'u',
            items: [{ productId: 5, quantity: 2, unitPrice: 100 }],
            totalAmount: 200,
          }),
        ),
        createEvent('ProductViewed', 5, 1, { productId: 5, count: 7 }),
      ]);
      await eventually(async () => (await metricsRow(ctx, 5))?.sales_count === 2);
      const order = ctx.config.kafka.topics.order;
      await eventually(async () => {
        const [committed, end] = await Promise.all([
          committedOffsets(ctx, group, order),
          endOffsets(ctx, order),
        ]);
        return end.every((high, p) => high === 0 || committed[p] === high);
      });
    } finally {
      expect(await stopCli(child, 'SIGTERM')).toBe(0);
    }
    const running = stderr.split('\n').find((l) => l.includes('collector running'))!;
    expect(JSON.parse(running).topics).toEqual([ctx.config.kafka.topics.order]);
    // Only order-events: the catalog view was not consumed by this group.
    expect(await metricsRow(ctx, 5)).toMatchObject({ sales_count: 2, view_count: 0 });
  });

  it.each([
    [['--topics', 'orders'], /"orders" is not an event topic/],
    [['--topics', 'order events'], /not a topic name/],
  ])('refuses --topics %j with exit 2 naming the flag', async (flags, message) => {
    const result = await runCli(['collector', 'run', ...flags], ctx.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--topics/);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a bad flag with a usage error', async () => {
    const child = startCli(['collector', 'run', '--session-timeout', 'soon'], ctx.env);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
  });
});
