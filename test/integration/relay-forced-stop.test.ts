import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestContext, type TestContext } from '../support/context.js';
import { startCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery, countOutbox, insertEvents, viewEvents } from '../support/outbox-fixtures.js';

// A private broker on 29600/29601 (never the shared 9092): this file freezes it.
const SERVICES = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
const BROKER_ENV = {
  ...process.env,
  SERVICES_DIR: `/tmp/relay-forced-stop-${randomBytes(4).toString('hex')}`,
  KAFKA_PORT: '29600',
  KAFKA_CONTROLLER_PORT: '29601',
};
const broker = (command: 'kafka-up' | 'kafka-down') =>
  promisify(execFile)('bash', [SERVICES, command], { env: BROKER_ENV, timeout: 120_000 });
const brokerPid = () => Number(readFileSync(`${BROKER_ENV.SERVICES_DIR}/kafka/kafka.pid`, 'utf8').trim());

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

/**
 * The forced stop (issue 22): a lease-mode relay caught in the middle of a batch (its send hangs on
 * a frozen broker) gets SIGTERM, then a second SIGTERM 100 ms later. It gives its leased rows back
 * before it exits, so a second relay publishes them at once, in order, instead of after the 30 s lease.
 */
describe('relay run: a second SIGTERM gives the leases back', () => {
  let ctx: TestContext;
  const children: ChildProcess[] = [];
  let frozen = false;

  beforeAll(async () => {
    await broker('kafka-up');
    ctx = await createTestContext({ env: { KAFKA_BROKERS: '127.0.0.1:29600', LOG_LEVEL: 'info' } });
  }, 150_000);
  afterAll(async () => {
    // Each step runs even if an earlier one fails: the private broker must never be left running.
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (frozen) process.kill(brokerPid(), 'SIGCONT');
    await ctx?.close().catch(() => undefined);
    await broker('kafka-down').catch(() => undefined);
    await rm(BROKER_ENV.SERVICES_DIR, { recursive: true, force: true });
  });

  it('two SIGTERMs 100 ms apart mid-batch leave no row leased; another relay publishes them within a second, in order', async () => {
    const relay = () => {
      const child = startCli(
        ['relay', 'run', '--mode', 'lease', '--lease', '30s', '--poll-interval', '100ms'],
        ctx.env,
      );
      children.push(child);
      let logs = '';
      child.stderr!.on('data', (d) => (logs += d));
      return { child, logs: () => logs };
    };

    // Relay A, its producer connected on a first event.
    const warmup = viewEvents(1, 1, 10_000);
    await insertEvents(ctx.pool, warmup, ctx.config.kafka.topics);
    const a = relay();
    await waitForOutput(a.child, /relay running/);
    await eventually(async () => (await countOutbox(ctx.pool, `status = 'PENDING'`)) === 0, 30_000, 50);

    // The broker freezes (SIGSTOP: a GC pause, a stalled VM); a backlog arrives: A leases it (one
    // batch) and its send hangs.
    process.kill(brokerPid(), 'SIGSTOP');
    frozen = true;
    const backlog = viewEvents(40, 5);
    await insertEvents(ctx.pool, backlog, ctx.config.kafka.topics);
    await eventually(
      async () =>
        (await countOutbox(ctx.pool, `locked_by IS NOT NULL AND status = 'PENDING'`)) >= backlog.length,
      10_000,
      20,
    );

    a.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100)); // the 100 ms between the two signals is the scenario
    a.child.kill('SIGTERM');
    const started = Date.now();
    const code = await Promise.race([
      exited(a.child),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`relay A did not exit:\n${a.logs()}`)), 5_000),
      ),
    ]);
    const exitMs = Date.now() - started;
    // Nothing leased is left behind, and nothing was marked that Kafka did not acknowledge.
    expect(await countOutbox(ctx.pool, `locked_until > now()`)).toBe(0);
    expect(await countOutbox(ctx.pool, `locked_by IS NOT NULL`)).toBe(0);
    expect(await countOutbox(ctx.pool, `status = 'PENDING'`)).toBe(backlog.length);
    expect(code).toBe(130);
    expect(exitMs).toBeLessThan(2_500); // the release, not the 30 s lease nor the send's timeout
    expect(a.logs()).toMatch(/"released":[1-9]\d*.*forced stop: send in flight abandoned/);

    process.kill(brokerPid(), 'SIGCONT');
    frozen = false;
    const b = relay();
    await waitForOutput(b.child, /relay running/);
    const ready = Date.now();
    await eventually(async () => (await countOutbox(ctx.pool, `status <> 'PUBLISHED'`)) === 0, 10_000, 20);
    // About 0.8 s measured alone (claim, producer connect, one send, one mark); the bound leaves room
    // for a loaded machine and is still far under the 30 s the leases would have held the rows.
    expect(Date.now() - ready).toBeLessThan(2_000);

    const delivery = checkDelivery(
      await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog),
      [...warmup, ...backlog].map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
    expect(delivery.splitKeys).toEqual([]);
    b.child.kill('SIGTERM');
    expect(await exited(b.child)).toBe(0);
  }, 90_000);
});
