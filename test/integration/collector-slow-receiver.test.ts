import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { groupMembers } from '../support/collector.js';
import { startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { caughtUp } from '../support/handlers.js';
import { startTraffic } from '../support/traffic.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { createEvent, orderCreatedFromV1, type DomainEvent } from '../../src/lib/events/index.js';

const SECRET = 'whsec-slow-receiver-0123456789';
/** Every answer takes most of the 6s session: a chunk of such deliveries outlives the session. */
const DELAY_MS = 4_500;
const TRAFFIC_MS = 60_000;

/** Round n: three orders, each created then paid (two versions, sent one after the other). */
function round(n: number): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let o = n * 10; o < n * 10 + 3; o++) {
    const items = [{ productId: 1, quantity: 1, unitPrice: 100 }];
    events.push(
      createEvent(
        'OrderCreated',
        o,
        1,
        orderCreatedFromV1({ orderId: o, userId: 'u', items, totalAmount: 100 }),
      ),
    );
    events.push(createEvent('OrderPaid', o, 2, { orderId: o, userId: 'u', paymentId: o, amount: 100 }));
  }
  return events;
}

/**
 * Issue 21 (b): a receiver that answers every webhook 2xx, but only after a delay near the session
 * timeout, for a minute of traffic. Every chunk's deliveries take longer than the session; the
 * collector heartbeats while they make progress, so it is never fenced out of its group: same member
 * throughout, lag back to 0, every event acknowledged exactly once (a fenced member would re-send).
 */
describe('collector: a slow webhook receiver', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  let child: ChildProcess | undefined;

  const members = (group: string) => groupMembers(ctx, group);

  beforeAll(async () => {
    ctx = await createTestContext();
    receiver = await startWebhookReceiver(SECRET, () => ({ status: 200, delayMs: DELAY_MS }));
  });
  afterAll(async () => {
    if (child) await stopCli(child, 'SIGKILL').catch(() => undefined);
    await receiver?.close();
    await ctx?.close();
  });

  it('keeps its group and delivers every event once while each answer takes most of the session', async () => {
    const group = `${ctx.id}-slow`;
    child = startCli(
      [
        'collector',
        'run',
        '--group',
        group,
        '--handlers',
        'webhook',
        '--session-timeout',
        '6s',
        '--webhook-timeout',
        '20s',
        '--webhook-concurrency',
        '16',
      ],
      { ...ctx.env, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'info' },
    );
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitForOutput(child, /collector running/);
    const member = await members(group);
    expect(member).toHaveLength(1);

    const traffic = await startTraffic(ctx, round, 5_000);
    await new Promise((r) => setTimeout(r, TRAFFIC_MS));
    const events = await traffic.stop();
    expect(exited, log).toBeUndefined(); // still running: not fenced into a crash

    await eventually(() => caughtUp(ctx, group), 90_000, 500);
    expect(exited, log).toBeUndefined();
    expect(await members(group)).toEqual(member); // never out of its group
    expect(log).not.toMatch(/consumer crashed|collector rejoining/);

    // Every event delivered, and exactly once: nothing was re-sent after a lost membership.
    const acknowledged = receiver.requests.filter((r) => 'status' in r.answer && r.answer.status === 200);
    expect(acknowledged.map((r) => r.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
    const { rows } = await ctx.pool.query(
      `SELECT count(*)::int AS n FROM event_inbox, unnest(handlers) AS h
        WHERE h = 'webhook' AND event_id = ANY($1::uuid[])`,
      [events.map((e) => e.eventId)],
    );
    expect(rows[0].n).toBe(events.length);
    expect(await stopCli(child)).toBe(0);
  }, 180_000);
});
