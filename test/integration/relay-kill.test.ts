import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createTestContext, type TestContext } from '../support/context.js';
import { startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery, insertEvents, viewEvents, countOutbox } from '../support/outbox-fixtures.js';

// Kills only its own relay processes, on its own database and topics: safe next to other files.
describe('relay killed with SIGKILL mid-batch', () => {
  let ctx: TestContext;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    ctx = await createTestContext({ env: { LOG_LEVEL: 'info' } });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await ctx?.close();
  });

  const count = (where: string, values: unknown[] = []) => countOutbox(ctx.pool, where, values);

  it('loses nothing: after the lease expires another relay publishes the rows', async () => {
    const events = viewEvents(200, 30); // 6,000 rows
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);

    // Small batches keep the first relay busy long enough to be killed mid-run, even on a loaded machine.
    const first = startCli(['relay', 'run', '--lease', '3s', '--batch-size', '10'], ctx.env);
    children.push(first);
    await waitForOutput(first, /relay running/);
    const owner = `%-${first.pid}-%`;
    // Kill it while it holds a lease on a batch it has not marked yet: freeze it (SIGSTOP) so the
    // check and the kill see the same state, and let it go on (SIGCONT) until it is caught mid-batch.
    const orphaned = () => count(`locked_by LIKE $1 AND status = 'PENDING'`, [owner]);
    await eventually(
      async () => {
        if ((await count(`status = 'PUBLISHED'`)) === 0) return false;
        first.kill('SIGSTOP');
        // A statement it sent just before it froze may still commit on the server: let it land.
        await new Promise((resolve) => setTimeout(resolve, 150));
        if ((await orphaned()) > 0) return true;
        first.kill('SIGCONT');
        return false;
      },
      30_000,
      5,
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect(await orphaned()).toBeGreaterThan(0);
    expect(await count(`status = 'PENDING'`)).toBeGreaterThan(0);

    const second = startCli(['relay', 'run', '--lease', '3s', '--poll-interval', '200ms'], ctx.env);
    children.push(second);
    await eventually(async () => (await count(`status <> 'PUBLISHED'`)) === 0, 45_000, 200);
    expect(await stopCli(second)).toBe(0);

    const delivery = checkDelivery(
      await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog),
      events.map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
    expect(await count(`locked_by IS NOT NULL`)).toBe(0);
  }, 90_000);
});
