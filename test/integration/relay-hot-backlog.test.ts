import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery, insertEvents, viewEvents, countOutbox } from '../support/outbox-fixtures.js';
import { rows } from '../../src/lib/db/query.js';
import { claimEvents } from '../support/outbox-reference.js';
import { outboxStatus } from '../../src/lib/outbox/status.js';

// Freezes only its own relay processes, on its own database and topics: safe next to other files.
describe('relay on a hot backlog (few aggregates, many rows each)', () => {
  let ctx: TestContext;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    ctx = await createTestContext({ env: { LOG_LEVEL: 'info' } });
  });
  beforeEach(async () => {
    await ctx.pool.query('DELETE FROM outbox_event');
  });
  // A test that failed may leave a relay frozen (SIGSTOP) holding row locks: never into the next test.
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const count = (where: string, values: unknown[] = []) => countOutbox(ctx.pool, where, values);
  const catalog = () => readTopic(ctx.kafka, ctx.config.kafka.topics.catalog);

  it('two relays drain 20,000 rows on 5 products plus 500 others, one frozen past its lease', async () => {
    const hot = viewEvents(5, 4_000); // products 1-5, 4,000 versions each
    const others = viewEvents(500, 2, 1_000);
    const events = [...hot, ...others];
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    await ctx.pool.query('VACUUM ANALYZE outbox_event');

    const args = ['relay', 'run', '--lease', '2s', '--batch-size', '200', '--poll-interval', '200ms'];
    // A starts alone, so it holds the chains' heads while it works; it is frozen holding a lease (SIGSTOP)
    // before B starts. Started together, B could hold every hot chain whenever A was looked at (a chain
    // goes to whoever claims its head), A owned nothing, and B drained the backlog before A froze.
    const a = startCli(args, ctx.env);
    children.push(a);
    await waitForOutput(a, /relay running/);
    const ownedByA = () => count(`locked_by LIKE $1 AND status = 'PENDING'`, [`%-${a.pid}-%`]);
    await eventually(
      async () => {
        a.kill('SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, 150)); // let a statement in flight land
        if ((await ownedByA()) > 0) return true;
        a.kill('SIGCONT');
        return false;
      },
      30_000,
      5,
    );
    // B starts while A is frozen past its lease: it must take over A's rows and drain the rest.
    const b = startCli(args, ctx.env);
    children.push(b);
    await waitForOutput(b, /relay running/);
    // B keeps publishing: 1,000 rows more, or all of them when fewer are left (the rest includes the
    // rows A holds).
    const frozenAt = await count(`status = 'PUBLISHED'`);
    const further = Math.min(frozenAt + 1_000, events.length);
    await eventually(async () => (await count(`status = 'PUBLISHED'`)) >= further, 30_000, 100);
    // A's lease runs out and B takes over every row A held, before A wakes up.
    await eventually(async () => (await ownedByA()) === 0, 30_000, 100);
    a.kill('SIGCONT');

    await eventually(async () => (await count(`status <> 'PUBLISHED'`)) === 0, 45_000, 200);
    expect(await stopCli(a)).toBe(0);
    expect(await stopCli(b)).toBe(0);
    expect(await count(`locked_by IS NOT NULL OR blocked`)).toBe(0);

    const delivery = checkDelivery(
      await catalog(),
      events.map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
    expect(delivery.splitKeys).toEqual([]);
  }, 120_000);

  it('a FAILED row with 3,000 later rows holds only its aggregate; retry resumes it in order', async () => {
    const stuck = viewEvents(1, 3_000, 2_001); // product 2001, versions 1..3000
    const others = viewEvents(300, 1, 3_000);
    await insertEvents(ctx.pool, [...stuck, ...others], ctx.config.kafka.topics);
    await ctx.pool.query(
      `UPDATE outbox_event SET status = 'FAILED', attempt_count = 10, last_error = 'rejected'
        WHERE event_id = $1`,
      [stuck[0]!.eventId],
    );

    // Small batches: the 2,999 rows behind the FAILED one fill many windows before the others.
    const once = await runCli(['relay', 'run', '--once', '--json', '--batch-size', '50'], ctx.env);
    expect(once.code).toBe(0);
    expect(once.json).toMatchObject({ published: 300, failed: 0, remaining: 2_999 });
    // What `outbox status` reports (in-process: one CLI start less on a loaded machine).
    expect(await outboxStatus(ctx.pool, 10)).toMatchObject({
      blocked: 2_999,
      counts: { pending: 2_999, failed: 1 },
    });

    const retry = await runCli(['outbox', 'retry', '--all-failed', '--json'], ctx.env);
    expect(retry.code).toBe(0);
    expect(await count('blocked')).toBe(0);
    const again = await runCli(['relay', 'run', '--once', '--json'], ctx.env);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ published: 3_000, remaining: 0 });

    const delivery = checkDelivery(
      await catalog(),
      [...stuck, ...others].map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
  }, 120_000);

  it('relay run --once waits for rows another relay holds, and says why', async () => {
    const events = viewEvents(5, 20, 4_001);
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    // A relay that claimed every row and then vanished: its lease outlasts the CLI's start however slow
    // the machine, and the test ends it once the relay has said why it waits.
    const ghost = await rows(ctx.pool, claimEvents('ghost', 1_000, 60_000));
    expect(ghost).toHaveLength(100);
    const relay = startCli(['relay', 'run', '--once', '--json', '--poll-interval', '200ms'], ctx.env);
    children.push(relay);
    let stdout = '';
    relay.stdout!.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => relay.once('exit', resolve));
    await waitForOutput(relay, /100 rows due but none claimable now: 100 leased by relays/);
    await ctx.pool.query(
      `UPDATE outbox_event SET locked_until = now() - interval '1 second' WHERE locked_by = 'ghost'`,
    );
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ published: 100, remaining: 0 });
  }, 60_000);

  it('relay run --once exits 1 with a message when due rows stay out of reach', async () => {
    const events = viewEvents(3, 2, 5_001);
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    // A transaction holding product 5001's first row (no lease: the lock never runs out by itself).
    const holder = await ctx.pool.connect();
    holder.on('error', () => undefined);
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM outbox_event WHERE event_id = $1 FOR UPDATE`, [events[0]!.eventId]);
      const once = await runCli(['relay', 'run', '--once', '--json', '--poll-interval', '200ms'], ctx.env);
      expect(once.code).toBe(1);
      expect(once.json.error).toMatchObject({ code: 'NO_PROGRESS', exitCode: 1 });
      expect(once.json.error.message).toMatch(/relay made no progress: 2 rows due/);
      expect(await count(`status = 'PUBLISHED'`)).toBe(4); // the other products went out
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
  }, 60_000);
});
