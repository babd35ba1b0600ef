import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startExporter, stopCli } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';

describe('commerce collector lag', () => {
  let ctx: TestContext;
  let catalog: string;
  let order: string;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: true });
    ({ catalog, order } = ctx.config.kafka.topics);
    const producer = createIdempotentProducer(ctx.kafka);
    await producer.connect();
    const to = (topic: string, partition: number, n: number) =>
      producer.send({
        topic,
        ...SEND_ACKS_ALL,
        messages: Array.from({ length: n }, (_, i) => ({ partition, key: `k${i}`, value: `v${i}` })),
      });
    await to(catalog, 0, 5);
    await to(catalog, 1, 3);
    await to(order, 2, 2);
    await producer.disconnect();
  });
  afterAll(() => ctx?.close());

  it('a group that never committed lags by everything on the log', async () => {
    const result = await runCli(['collector', 'lag', '--json'], ctx.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.groupId).toBe(ctx.config.kafka.groupId);
    expect(result.json.total).toBe(10);
    expect(result.json.partitions.every((p: { committed: string | null }) => p.committed === null)).toBe(
      true,
    );
  });

  it('reports committed offset, end offset and lag per partition after a consumer commits', async () => {
    // A real consumer of the collector's group reads and commits part of catalog partition 0.
    const consumer = ctx.kafka.consumer({ groupId: ctx.config.kafka.groupId });
    await consumer.connect();
    await consumer.subscribe({ topic: catalog, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            if (partition === 0 && message.offset === '1') {
              await consumer.commitOffsets([{ topic: catalog, partition: 0, offset: '2' }]);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    const admin = ctx.kafka.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: ctx.config.kafka.groupId,
      topic: catalog,
      partitions: [{ partition: 1, offset: '3' }],
    });
    await admin.disconnect();

    const result = await runCli(['collector', 'lag', '--json'], ctx.env);
    expect(result.code, result.stderr).toBe(0);
    const rows = result.json.partitions.map((p: Record<string, unknown>) => [
      p.topic,
      p.partition,
      p.committed,
      p.end,
      p.lag,
    ]);
    expect(rows).toEqual([
      [catalog, 0, '2', '5', 3],
      [catalog, 1, '3', '3', 0],
      [catalog, 2, null, '0', 0],
      [order, 0, null, '0', 0],
      [order, 1, null, '0', 0],
      [order, 2, null, '2', 2],
    ]);
    expect(result.json.total).toBe(5);

    // Flags name topics without KAFKA_TOPIC_PREFIX, which is added: never another deployment's topic.
    const one = await runCli(['collector', 'lag', '--topics', 'catalog-events', '--json'], ctx.env);
    expect(one.code, one.stderr).toBe(0);
    expect(one.json.partitions.map((p: { topic: string }) => p.topic)).toEqual([catalog, catalog, catalog]);
    expect(one.json.total).toBe(3);
    const both = await runCli(
      ['collector', 'lag', '--topics', 'order-events', '--topics', 'catalog-events,order-events', '--json'],
      ctx.env,
    );
    expect(both.json.total).toBe(5);
    const bad = await runCli(['collector', 'lag', '--topics', 'order events', '--json'], ctx.env);
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toMatch(/--topics/);
    const other = await runCli(
      ['collector', 'lag', '--group', `${ctx.config.kafka.groupId}-other`, '--json'],
      ctx.env,
    );
    expect(other.json.total).toBe(10);
    const table = await runCli(['collector', 'lag'], ctx.env);
    expect(table.stdout).toMatch(/total lag 5/);
  });

  it('--all-groups: every group that committed on, or is subscribed to, the event topics', async () => {
    const group = ctx.config.kafka.groupId; // committed on catalog in the test above
    const admin = ctx.kafka.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: `${group}-webhook`,
      topic: order,
      partitions: [{ partition: 2, offset: '1' }],
    });
    await admin.disconnect();
    // A member that joined but has committed nothing yet still consumes the topic.
    const live = ctx.kafka.consumer({ groupId: `${group}-live` });
    await live.connect();
    try {
      await live.subscribe({ topic: order, fromBeginning: true });
      const joined = new Promise<void>((resolve) => live.on(live.events.GROUP_JOIN, () => resolve()));
      await live.run({ autoCommit: false, eachMessage: async () => undefined }); // never commits
      await joined;

      const result = await runCli(['collector', 'lag', '--all-groups', '--json'], ctx.env);
      expect(result.code, result.stderr).toBe(0);
      // Only this context's topics count: groups of other test files (other prefixes) are left out.
      const groups = result.json.groups.map((g: { groupId: string; total: number }) => [g.groupId, g.total]);
      // Each on the topics it consumes: the collector's group has only committed on catalog.
      expect(groups).toEqual([
        [group, 3],
        [`${group}-live`, 2],
        [`${group}-webhook`, 1],
      ]);
      expect(result.json.total).toBe(6);
      const table = await runCli(['collector', 'lag', '--all-groups'], ctx.env);
      expect(table.stdout).toMatch(new RegExp(`Group ${group}-webhook: total lag 1`));
      const both = await runCli(['collector', 'lag', '--all-groups', '--group', group], ctx.env);
      expect(both.code).toBe(2);
    } finally {
      await live.disconnect();
    }
  });

  // Last: it adds messages to order partition 0, which the tests above count.
  it('lag in seconds: the age of the oldest unconsumed message, growing while the group is stopped', async () => {
    const group = ctx.config.kafka.groupId;
    const minute = 60_000;
    const producer = createIdempotentProducer(ctx.kafka);
    await producer.connect();
    const sentAt = Date.now();
    // CreateTime set by the producer: three messages 20, 10 and 1 minutes old.
    await producer.send({
      topic: order,
      ...SEND_ACKS_ALL,
      messages: [20, 10, 1].map((m, i) => ({
        partition: 0,
        key: `aged${i}`,
        value: 'x',
        timestamp: String(sentAt - m * minute),
      })),
    });
    await producer.disconnect();
    const admin = ctx.kafka.admin();
    await admin.connect();
    // The (stopped) group consumed the 20-minute-old one: its oldest unconsumed message is 10 minutes old.
    await admin.setOffsets({ groupId: group, topic: order, partitions: [{ partition: 0, offset: '1' }] });
    await admin.disconnect();

    const lagOf = async () => {
      const result = await runCli(['collector', 'lag', '--topics', 'order-events', '--json'], ctx.env);
      expect(result.code, result.stderr).toBe(0);
      return result.json as {
        maxLagSeconds: number;
        partitions: Array<{ partition: number; lag: number; lagSeconds: number | null }>;
      };
    };
    const first = await lagOf();
    const p0 = first.partitions.find((p) => p.partition === 0)!;
    expect(p0.lag).toBe(2);
    expect(p0.lagSeconds!).toBeGreaterThanOrEqual(600);
    expect(p0.lagSeconds!).toBeLessThan(600 + (Date.now() - sentAt) / 1000 + 1);
    expect(first.partitions.find((p) => p.partition === 1)!.lagSeconds).toBe(0); // nothing there
    expect(first.maxLagSeconds).toBe(p0.lagSeconds);
    await new Promise((r) => setTimeout(r, 1_500));
    const later = (await lagOf()).partitions.find((p) => p.partition === 0)!;
    expect(later.lag).toBe(2);
    expect(later.lagSeconds! - p0.lagSeconds!).toBeGreaterThanOrEqual(1.4);
    const table = await runCli(['collector', 'lag', '--topics', 'order-events'], ctx.env);
    expect(table.stdout).toMatch(/Behind/);
    expect(table.stdout).toMatch(new RegExp(`Group ${group}: total lag 4, \\d+\\.\\dm behind`));

    // The exporter's gauge: the same age, per partition.
    const exporter = await startExporter(ctx.env);
    try {
      const { url } = exporter;
      // A scrape whose Kafka read misses the exporter's 5 s source timeout (a loaded machine, the first
      // connection) reports no lag series and kafka down; the next scrape has it.
      const line = await eventually(
        async () => {
          const text = await (await fetch(`${url}/metrics`)).text();
          return text
            .split('\n')
            .find((l) =>
              l.startsWith(`commerce_consumer_lag_seconds{group="${group}",topic="${order}",partition="0"`),
            );
        },
        30_000,
        1_000,
      );
      expect(Number(line!.slice(line!.lastIndexOf(' ') + 1))).toBeGreaterThanOrEqual(600);
    } finally {
      await stopCli(exporter.child);
    }
  }, 120_000);

  it('an unreachable broker exits 4', async () => {
    const result = await runCli(['collector', 'lag'], { ...ctx.env, KAFKA_BROKERS: '127.0.0.1:1' }, 90_000);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Kafka is unavailable/);
  });
});
