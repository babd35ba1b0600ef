import type { ChildProcess } from 'node:child_process';
import { freePort } from '../support/ports.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { groupMembers } from '../support/collector.js';
import { startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { caughtUp } from '../support/handlers.js';
import { startTraffic } from '../support/traffic.js';
import { createEvent, type DomainEvent } from '../../src/lib/events/index.js';

const PRODUCTS = 24;

/** Round n: one view of every product (versions only need to increase per product). */
const views = (n: number): DomainEvent[] =>
  Array.from({ length: PRODUCTS }, (_, i) =>
    createEvent('ProductViewed', i + 1, n, { productId: i + 1, count: 1 }),
  );

/**
 * Issue 21 (d): a member fenced on purpose. Collector A is frozen (SIGSTOP) under traffic for longer
 * than its session, B takes all its partitions, then A is thawed: its next commit or heartbeat is
 * refused ("not aware of this member"). A must rejoin the group by itself (no process restart), never
 * stay alive and idle: once B is gone, A alone applies everything, each event once.
 */
describe('collector: a member fenced out of its group', () => {
  let ctx: TestContext;
  const children: ChildProcess[] = [];

  const members = (group: string) => groupMembers(ctx, group);
  const collector = async (group: string, port: number) => {
    const child = startCli(
      [
        'collector',
        'run',
        '--group',
        group,
        '--handlers',
        'audit,metrics',
        '--topics',
        'catalog-events',
        '--session-timeout',
        '6s',
        '--batch-size',
        '20',
        '--metrics-port',
        String(port),
      ],
      { ...ctx.env, LOG_LEVEL: 'info' },
    );
    children.push(child);
    const exit = { code: undefined as number | null | undefined, log: '' };
    child.once('exit', (code) => (exit.code = code));
    child.stderr!.on('data', (d: Buffer) => (exit.log += d.toString()));
    await waitForOutput(child, /collector running/);
    return { child, exit, port };
  };
  const readyz = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;

  beforeAll(async () => {
    // One partition per member and traffic on every partition: A's thawed batch reaches its commit
    // (no idle partition whose empty fetch heartbeats first and takes kafkajs's own rejoin path).
    ctx = await createTestContext({ env: { KAFKA_PARTITIONS: '2' } });
  });
  afterAll(async () => {
    for (const c of children) {
      c.kill('SIGCONT');
      await stopCli(c, 'SIGKILL').catch(() => undefined);
    }
    await ctx?.close();
  });

  it('a member frozen past its session rejoins by itself once thawed, and consumes again', async () => {
    const group = `${ctx.id}-fenced`;
    const a = await collector(group, await freePort());
    const b = await collector(group, await freePort());
    await eventually(async () => (await members(group)).length === 2, 30_000, 250);
    expect(await readyz(a.port)).toBe(200);

    const traffic = await startTraffic(ctx, views, 100);
    await new Promise((r) => setTimeout(r, 3_000));
    a.child.kill('SIGSTOP'); // frozen in the middle of its work (batches of 20 under steady traffic)
    // The coordinator expires A's session; B gets every partition and consumes A's share too.
    await eventually(async () => (await members(group)).length === 1, 30_000, 250);
    await new Promise((r) => setTimeout(r, 4_000));
    a.child.kill('SIGCONT');

    // A rejoins by itself: the group has two members again, and A's process never exited.
    await eventually(
      async () => a.exit.code !== undefined || (await members(group)).length === 2,
      60_000,
      250,
    );
    expect(a.exit.code, a.exit.log).toBeUndefined();
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await members(group)).toHaveLength(2);
    await traffic.stop();

    // B leaves; A alone must consume what comes next (not alive and idle).
    expect(await stopCli(b.child)).toBe(0);
    const after = await startTraffic(ctx, views, 50);
    await new Promise((r) => setTimeout(r, 2_000));
    await after.stop();
    await eventually(() => caughtUp(ctx, group), 60_000, 250);
    expect(a.exit.code, a.exit.log).toBeUndefined();
    expect(await readyz(a.port)).toBe(200);

    // Every event applied once: one audit row each, views add up exactly.
    const sent = [...traffic.sent, ...after.sent];
    const { rows: audit } = await ctx.pool.query(`SELECT count(*)::int AS n FROM event_log`);
    expect(audit[0].n).toBe(sent.length);
    const { rows: metrics } = await ctx.pool.query(
      `SELECT product_id::int AS id, view_count::int AS views FROM product_metrics ORDER BY 1`,
    );
    const rounds = sent.length / PRODUCTS;
    expect(metrics).toEqual(Array.from({ length: PRODUCTS }, (_, i) => ({ id: i + 1, views: rounds })));
    expect(await stopCli(a.child)).toBe(0);
  }, 150_000);
});
