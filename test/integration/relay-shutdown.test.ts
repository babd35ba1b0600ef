import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createTestContext, type TestContext } from '../support/context.js';
import { startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { countOutbox, insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { startCluster, type KafkaCluster } from '../support/kafka-cluster.js';
import { createAssignedTopic } from '../support/assigned-topic.js';

const SHUTDOWN_TIMEOUT_MS = 4_000;

/**
 * SIGTERM while the broker leading every partition is frozen (SIGSTOP: a long GC pause, a stalled
 * VM): the relay's send hangs until its request timeout, and kafkajs retries it. With a 5m lease the
 * send may take ~67 s (send-budget.ts), far past Kubernetes' 30 s grace; the shutdown deadline
 * (SHUTDOWN_TIMEOUT) forces the stop anyway (the batch's leases given back) and the process exits
 * non-zero, saying what it waited for.
 */
describe('relay run exits within SHUTDOWN_TIMEOUT whatever a broker does', () => {
  let cluster: KafkaCluster;
  let ctx: TestContext;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ basePort: 29120 });
    ctx = await createTestContext({
      topics: false,
      env: {
        KAFKA_BROKERS: cluster.brokers.join(','),
        KAFKA_PARTITIONS: '2',
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms`,
      },
    });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    cluster?.thaw(2);
    await ctx?.close();
    await cluster?.stop();
  });

  it('a relay sending to a frozen leader exits non-zero by the deadline on SIGTERM', async () => {
    const topic = ctx.config.kafka.topics.catalog;
    await createAssignedTopic(ctx.kafka, topic, [
      [2, 1, 3],
      [2, 3, 1],
    ]);
    await insertEvents(ctx.pool, viewEvents(8, 1), ctx.config.kafka.topics);
    const relay = startCli(['relay', 'run', '--lease', '5m', '--poll-interval', '200ms'], ctx.env);
    children.push(relay);
    let logs = '';
    relay.stderr!.on('data', (d) => (logs += d));
    await waitForOutput(relay, /relay running/);
    await eventually(async () => (await countOutbox(ctx.pool, `status <> 'PUBLISHED'`)) === 0, 30_000);

    cluster.freeze(2);
    await insertEvents(ctx.pool, viewEvents(8, 1, 100), ctx.config.kafka.topics);
    // Claimed (leased) and being sent to the frozen broker.
    await eventually(async () => (await countOutbox(ctx.pool, `locked_by IS NOT NULL`)) > 0, 10_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await countOutbox(ctx.pool, `status = 'PUBLISHED'`)).toBe(8);

    const started = Date.now();
    const code = await stopCli(relay, 'SIGTERM', 30_000);
    const tookMs = Date.now() - started;
    expect(code).toBe(1);
    expect(tookMs).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 500);
    expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 6_000);
    expect(logs).toMatch(/shutdown deadline passed/);
    // It says what it waited for: the command's return, the relay loop (its send in flight), sockets.
    expect(logs).toMatch(/"waitingFor":"the command to return","loops":\[\{"component":"relay"/);
    // Nothing was marked that Kafka did not take, and the forced stop gave the batch back: no row
    // waits out the 5m lease.
    expect(await countOutbox(ctx.pool, `status = 'PUBLISHED'`)).toBe(8);
    expect(await countOutbox(ctx.pool, `locked_by IS NOT NULL`)).toBe(0);
    expect(logs).toMatch(/forced stop: send in flight abandoned, leased rows given back/);
  }, 120_000);

  it('a relay whose producer never connected (its only broker frozen) exits 0 on SIGTERM, leaking nothing', async () => {
    // Node 2 is still frozen: a TCP connection to it opens (the kernel accepts it) but no request is
    // answered, so the producer's connect() fails on its request timeout holding that socket.
    await insertEvents(ctx.pool, viewEvents(4, 1, 200), ctx.config.kafka.topics);
    const relay = startCli(['relay', 'run', '--lease', '2s', '--poll-interval', '200ms'], {
      ...ctx.env,
      KAFKA_BROKERS: cluster.address(2),
    });
    children.push(relay);
    let logs = '';
    relay.stderr!.on('data', (d) => (logs += d));
    await waitForOutput(relay, /Kafka unavailable: pausing/, 30_000);
    expect(await stopCli(relay, 'SIGTERM', 15_000)).toBe(0);
    expect(logs).not.toMatch(/keep the process alive|shutdown deadline passed/);
  }, 60_000);
});
