import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { Registry } from 'prom-client';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery, countOutbox, insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { createLogger } from '../../src/lib/log.js';
import { createKafka } from '../../src/lib/kafka/client.js';
import { EVENT_HEADERS } from '../../src/lib/kafka/event-headers.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import { claimLockedBatch } from '../../src/lib/outbox/claim-lock.js';
import { RelayPipeline } from '../../src/jobs/relay/pipeline.js';
import { Publisher } from '../../src/jobs/relay/publisher.js';
import { emptyStats, type BatchPublisher } from '../../src/jobs/relay/cycle.js';
import { createRelayMetrics } from '../../src/jobs/relay/metrics.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';
import { sendBudget } from '../../src/jobs/relay/send-budget.js';
import type { RenewLease } from '../../src/jobs/relay/batch.js';

const logger = createLogger('silent', { pretty: false });

/**
 * Backends of this test's database holding a transaction open between statements with something in
 * it (a lock-mode batch: row locks give it an xid). A relay frozen right after BEGIN, before its
 * first statement, holds an empty transaction (no xid, no snapshot, no lock): harmless, not counted.
 */
async function idleInTransaction(ctx: TestContext): Promise<number[]> {
  const { rows } = await ctx.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()
        AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)`,
  );
  return rows.map((r) => r.pid);
}

/** PENDING rows some transaction holds locked (a lock-mode batch): those a locking read has to skip. */
async function lockedRows(ctx: TestContext): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM outbox_event WHERE status = 'PENDING')
          - (SELECT count(*) FROM (SELECT 1 FROM outbox_event WHERE status = 'PENDING' FOR UPDATE SKIP LOCKED) free)
            AS n`,
  );
  return Number(rows[0]!.n);
}

// `relay run --mode lock` (issue 15): rows held by row locks of the batch's open transaction, one
// write per event (the mark). Each test has its own database and topics; it kills only its own
// processes and backends.
describe('relay in lock mode', () => {
  let ctx: TestContext;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    ctx = await createTestContext({ env: { LOG_LEVEL: 'info' } });
  });
  beforeEach(async () => {
    await ctx.pool.query('TRUNCATE outbox_event');
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await ctx?.close();
  });

  const count = (where: string, values: unknown[] = []) => countOutbox(ctx.pool, where, values);
  const catalog = () => readTopic(ctx.kafka, ctx.config.kafka.topics.catalog);
  /** What reached the topic of these events (tests use distinct products, so one topic serves all). */
  const delivered = async (events: Array<{ eventId: string }>) => {
    const ids = new Set(events.map((e) => e.eventId));
    const messages = (await catalog()).filter((m) => ids.has(m.headers[EVENT_HEADERS.eventId]!));
    return { messages, ...checkDelivery(messages, ids) };
  };

  it('two lock-mode relays and a lease-mode relay at once: every aggregate in order, nothing lost, no lease written by lock mode', async () => {
    const events = viewEvents(100, 30); // 3,000 rows
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    const relays = [
      startCli(['relay', 'run', '--mode', 'lock', '--batch-size', '25', '--poll-interval', '200ms'], ctx.env),
      startCli(['relay', 'run', '--mode', 'lock', '--batch-size', '25', '--poll-interval', '200ms'], ctx.env),
      startCli(['relay', 'run', '--batch-size', '25', '--poll-interval', '200ms'], ctx.env),
    ];
    children.push(...relays);
    await Promise.all(relays.map((r) => waitForOutput(r, /relay running/)));
    await eventually(async () => (await count(`status <> 'PUBLISHED'`)) === 0, 60_000, 200);
    expect(await Promise.all(relays.map((r) => stopCli(r)))).toEqual([0, 0, 0]);

    const delivery = await delivered(events);
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
    expect(delivery.splitKeys).toEqual([]);
    expect(await count(`locked_by IS NOT NULL`)).toBe(0);
  }, 90_000);

  it('an unknown --mode is a usage error (exit 2) naming the flag, and publishes nothing', async () => {
    await insertEvents(ctx.pool, viewEvents(2, 2, 3_001), ctx.config.kafka.topics);
    const bad = await runCli(['relay', 'run', '--once', '--mode', 'fast'], ctx.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--mode/);
    expect(await count(`status = 'PENDING'`)).toBe(4);
  }, 30_000);

  it('a batch whose connection is killed before its send is not sent, and its rows are claimable at once', async () => {
    const events = viewEvents(4, 5, 1_001); // 20 rows
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    const options = parseRelayOptions({ mode: 'lock', batchSize: 100, lease: '60s' });
    const budget = sendBudget(options.leaseMs);
    const real = new Publisher(createKafka(ctx.config.kafka, logger, budget), logger, budget.retry);
    let freed: ClaimedEvent[] = [];
    const publisher: BatchPublisher = {
      async publish(batch: ClaimedEvent[], renew: RenewLease) {
        // The batch's transaction holds its rows: cut its connection, as a network failure or a DBA would.
        const held = await idleInTransaction(ctx);
        expect(held).toHaveLength(1);
        // With a timeout, pg_terminate_backend waits until the backend has exited (its locks gone);
        // without one it only signals it, and the claim below could still find the rows locked.
        const { rows: ended } = await ctx.pool.query<{ ok: boolean }>(
          'SELECT pg_terminate_backend($1, 10000) AS ok',
          [held[0]],
        );
        expect(ended[0]!.ok).toBe(true); // false: the backend did not exit within 10 s
        // Free at once, far inside the 60s a lease would have kept them: another claim takes them all.
        const other = await claimLockedBatch(ctx.pool, 100, 60_000);
        freed = other.events;
        await other.held?.end('ROLLBACK');
        return real.publish(batch, renew);
      },
    };
    const pipeline = new RelayPipeline({
      db: ctx.pool,
      publisher,
      options,
      stats: emptyStats(),
      metrics: createRelayMetrics(new Registry(), ctx.pool),
      logger,
      signal: new AbortController().signal,
    });
    try {
      await expect(pipeline.step()).rejects.toThrow();
      await pipeline.finish();
    } finally {
      await real.reset();
    }
    expect(freed.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
    expect((await delivered(events)).messages).toEqual([]); // nothing was sent for the dead batch
    expect(await count(`status = 'PENDING'`)).toBe(20);

    const once = await runCli(['relay', 'run', '--mode', 'lock', '--once', '--json'], ctx.env);
    expect(once.code).toBe(0);
    expect(once.json).toMatchObject({ published: 20, failed: 0, remaining: 0 });
    expect(await delivered(events)).toMatchObject({ missing: [], outOfOrder: [], duplicates: 0 });
  }, 60_000);

  it('a relay killed (SIGKILL) or frozen (SIGSTOP) mid-batch: its rows go on without it, in order', async () => {
    const events = viewEvents(200, 30, 2_001); // 6,000 rows
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    const start = () =>
      startCli(['relay', 'run', '--mode', 'lock', '--lease', '3s', '--batch-size', '10'], ctx.env);

    // Killed: caught holding a batch (frozen for the check, as relay-kill does), then SIGKILL. Its
    // connection drops with it, so its rows are claimable at once: no lease to wait for.
    const killed = start();
    children.push(killed);
    await waitForOutput(killed, /relay running/);
    await eventually(
      async () => {
        if ((await count(`status = 'PUBLISHED'`)) === 0) return false;
        killed.kill('SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, 150));
        if ((await idleInTransaction(ctx)).length > 0) return true;
        killed.kill('SIGCONT');
        return false;
      },
      30_000,
      5,
    );
    killed.kill('SIGKILL');
    await new Promise((resolve) => killed.once('exit', resolve));
    await eventually(async () => (await idleInTransaction(ctx)).length === 0, 5_000, 50);
    const pending = await count(`status = 'PENDING'`);
    expect(pending).toBeGreaterThan(0);
    const claim = await claimLockedBatch(ctx.pool, 10, 3_000);
    expect(claim.events.length).toBeGreaterThan(0);
    await claim.held?.end('ROLLBACK');

    // Frozen: caught holding rows and left frozen. Its transaction sits idle past the idle timeout
    // (the 3s lease), the server ends it, and a second relay drains everything, those rows included.
    const frozen = start();
    children.push(frozen);
    await waitForOutput(frozen, /relay running/);
    const published = await count(`status = 'PUBLISHED'`);
    await eventually(
      async () => {
        if ((await count(`status = 'PUBLISHED'`)) === published) return false;
        frozen.kill('SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, 150));
        if ((await lockedRows(ctx)) > 0) return true;
        frozen.kill('SIGCONT');
        return false;
      },
      30_000,
      5,
    );
    const second = startCli(
      ['relay', 'run', '--mode', 'lock', '--lease', '3s', '--poll-interval', '200ms'],
      ctx.env,
    );
    children.push(second);
    await eventually(async () => (await count(`status <> 'PUBLISHED'`)) === 0, 45_000, 200);
    // The frozen relay's transaction was ended by the server (nothing else holds one now).
    await eventually(async () => (await idleInTransaction(ctx)).length === 0, 10_000, 100);
    // Woken up, the frozen relay finds its connection gone: it neither sends that batch nor crashes.
    frozen.kill('SIGCONT');
    // A window, not a wait: the relay must not crash within it (nothing to wait on when it does not).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(frozen.exitCode).toBeNull();
    expect(await Promise.all([stopCli(frozen), stopCli(second)])).toEqual([0, 0]);

    const delivery = await delivered(events);
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
    expect(await count(`locked_by IS NOT NULL`)).toBe(0);
  }, 150_000);
});
