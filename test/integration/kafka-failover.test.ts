import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { startKept, stopCli, type KeptProcess } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import {
  coordinatorOf,
  leaderOf,
  startCluster,
  type KafkaCluster,
  type NodeId,
} from '../support/kafka-cluster.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery } from '../support/outbox-fixtures.js';
import { rows, sql } from '../../src/lib/db/query.js';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import { apiClient } from '../../src/jobs/demo/http.js';
import { seedCatalog } from '../../src/jobs/demo/seed.js';
import { runTraffic } from '../../src/jobs/demo/traffic.js';
import { waitForCatchUp } from '../../src/jobs/demo/catch-up.js';
import { compareMetrics } from '../../src/jobs/demo/verify.js';

// A private 3-broker cluster (RF 3, min.insync.replicas 2, brokers fenced after 6 s without a
// heartbeat): the ordinary events of a real cluster, through real processes, under traffic.
const BASE_PORT = 29400;
const ADMIN_TOKEN = 'kafka-failover-admin-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a 3-broker Kafka cluster: a broker and the controller killed, the group coordinator frozen', () => {
  let cluster: KafkaCluster;
  let ctx: TestContext;
  const procs: KeptProcess[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ basePort: BASE_PORT });
    ctx = await createTestContext({
      env: { KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_REPLICATION_FACTOR: '3' },
    });
  }, 180_000);

  afterAll(async () => {
    for (const { child } of procs)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await ctx?.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('every PUBLISHED row is on Kafka, collectors keep their group, every event applied once', async () => {
    const env = { ...ctx.env, ADMIN_TOKEN, LOG_LEVEL: 'info' };
    const group = ctx.env.KAFKA_GROUP_ID!;
    const api = await startKept(
      'api',
      ['api', 'serve', '--port', '0'],
      env,
      /listening on http:\/\/127\.0\.0\.1:\d+/,
      60_000,
    );
    procs.push(api.proc);
    for (const n of [1, 2]) {
      const relay = await startKept(
        `relay ${n}`,
        ['relay', 'run', '--lease', '10s', '--batch-size', '50'],
        env,
        /relay running/,
        60_000,
      );
      procs.push(relay.proc);
    }
    for (const n of [1, 2]) {
      const collector = await startKept(
        `collector ${n}`,
        ['collector', 'run', '--session-timeout', '10s', '--batch-size', '50'],
        env,
        /collector running/,
        60_000,
      );
      procs.push(collector.proc);
    }

    const url = api.line.replace('listening on ', '');
    const seed = await seedCatalog(apiClient(url, ADMIN_TOKEN), 10);
    const stopTraffic = new AbortController();
    const traffic = runTraffic({
      client: apiClient(url, ADMIN_TOKEN),
      products: seed.products,
      users: 8,
      orders: 1_000_000,
      concurrency: 3,
      userPrefix: 'kfo-',
      signal: stopTraffic.signal,
    });

    const faults: string[] = [];
    // 1. A broker leading an event partition: SIGKILL, restarted 5 s later.
    await sleep(3_000);
    const leader = (await leaderOf(ctx.kafka, ctx.config.kafka.topics.order, 0)) as NodeId;
    await cluster.kill(leader);
    faults.push(`killed node ${leader} (leader of order-events/0)`);
    await sleep(5_000);
    await cluster.restart(leader);
    // 2. The active controller: SIGKILL, restarted 5 s later.
    await sleep(3_000);
    const controller = await cluster.controller();
    await cluster.kill(controller);
    faults.push(`killed node ${controller} (controller)`);
    await sleep(5_000);
    await cluster.restart(controller);
    // 3. The collectors' group coordinator, a partition leader too: frozen past the broker session
    //    (a zombie leader and coordinator), then resumed.
    await sleep(3_000);
    const coordinator = (await coordinatorOf(ctx.kafka, group)) as NodeId;
    cluster.freeze(coordinator);
    faults.push(`froze node ${coordinator} (coordinator of ${group}) for 20 s`);
    await sleep(20_000);
    cluster.thaw(coordinator);
    await sleep(5_000);
    stopTraffic.abort();
    const ledger = await traffic;
    expect(ledger.counts.unexpected).toBe(0); // Kafka's faults never reach the API
    expect(ledger.counts.orders).toBeGreaterThan(50);

    expect(await stopCli(api.proc.child)).toBe(0); // flushes the buffered views into the outbox
    const progress = await waitForCatchUp({ pool: ctx.pool, watermark: '0', timeoutMs: 150_000 });
    expect(progress).toMatchObject({ pending: 0, failed: 0, consumed: progress.written });

    // No relay or collector exited or was restarted: the collectors are both members of their group again.
    const dead = procs.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    expect(
      dead
        .filter((p) => p.name !== 'api')
        .map(
          (p) => `${p.name}: ${p.child.exitCode ?? p.child.signalCode}\n${p.output.join('').slice(-4000)}`,
        ),
    ).toEqual([]);
    await eventually(
      async () => {
        const described = await withAdmin(ctx.kafka, (admin) => admin.describeGroups([group]));
        const members = described.groups[0]?.members ?? [];
        return members.length === 2 && described.groups[0]!.state === 'Stable';
      },
      90_000,
      500,
    );

    // Every PUBLISHED row is on Kafka (at least once), first copies in version order per aggregate.
    const published = await rows<{ event_id: string; topic: string }>(
      ctx.pool,
      sql('kafka-failover.published', `SELECT event_id, topic FROM outbox_event WHERE status = 'PUBLISHED'`),
    );
    expect(published.length).toBe(progress.written);
    for (const topic of [ctx.config.kafka.topics.catalog, ctx.config.kafka.topics.order]) {
      const expected = published.filter((p) => p.topic === topic).map((p) => p.event_id);
      const delivery = checkDelivery(await readTopic(ctx.kafka, topic, 60_000), expected);
      expect({ topic, missing: delivery.missing.length, outOfOrder: delivery.outOfOrder }).toEqual({
        topic,
        missing: 0,
        outOfOrder: [],
      });
    }

    // Every event applied once, and the metrics equal the answered requests.
    const handled = await rows<{ event_id: string }>(
      ctx.pool,
      sql(
        'kafka-failover.handled',
        `SELECT o.event_id FROM outbox_event o
          WHERE NOT EXISTS (SELECT 1 FROM event_inbox h WHERE h.event_id = o.event_id AND 'metrics' = ANY (h.handlers))
             OR (SELECT count(*) FROM event_log l WHERE l.event_id = o.event_id) <> 1`,
      ),
    );
    expect(handled).toEqual([]);
    expect(await compareMetrics(ctx.pool, ledger.expected())).toEqual([]);

    // SIGTERM: every relay and collector stops cleanly and in time.
    const exits = await Promise.all(
      procs.slice(1).map(async (p) => {
        const code = await stopCli(p.child, 'SIGTERM', 30_000).catch(() => 'still running after 30 s');
        return code === 0 ? `${p.name}: 0` : `${p.name}: ${code}\n${p.output.join('').slice(-3000)}`;
      }),
    );
    expect(exits).toEqual(procs.slice(1).map((p) => `${p.name}: 0`));
    console.info(`kafka-failover: ${faults.join('; ')}; ${progress.written} events`);
  }, 420_000);
});
