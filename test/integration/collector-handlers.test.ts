import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../support/ports.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import { publish, startTestCollector } from '../support/collector.js';
import { caughtUp, effectsOf, groupLag, scenarioEvents, seedCache } from '../support/handlers.js';
import { createRedis } from '../../src/lib/redis/client.js';
import { createLogger } from '../../src/lib/log.js';
import { startCollector, type CollectorHandle } from '../../src/jobs/collector/collector.js';
import { HANDLERS, type HandlerName } from '../../src/jobs/collector/handlers.js';
import { createWebhookStep } from '../../src/jobs/collector/webhook-handler.js';
import { WebhookSender } from '../../src/jobs/collector/webhook/sender.js';
import { createWebhookMetrics } from '../../src/jobs/collector/webhook/metrics.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import type { DomainEvent } from '../../src/lib/events/index.js';
import { Registry } from 'prom-client';
import { dailyRankingKey } from '../../src/lib/ranking/score.js';
import { compactDate } from '../../src/lib/time/dates.js';

const SECRET = 'whsec-handlers-test-0123456789';

/**
 * Issue 14: idempotency belongs to the handler, not to the consumer group. Each scenario has its own
 * products, orders and day (scenarioEvents), so its effects can be compared with the baseline's: the
 * same events handled by ONE collector running every handler.
 */
describe('collector handlers: each effect once per event, whatever group delivers it', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  let baseline: Awaited<ReturnType<typeof effectsOf>>;
  const running: CollectorHandle[] = [];
  const start = async (groupId: string, handlers: readonly HandlerName[] = HANDLERS) => {
    const webhook = handlers.includes('webhook') ? webhookStep() : undefined;
    const c = await startTestCollector(ctx, { groupId, handlers, webhook, batchSize: 7 });
    running.push(c);
    return c;
  };
  const stopAll = async () => {
    for (const c of running.splice(0)) await c.stop();
  };

  const webhookStep = () => {
    const options = {
      url: receiver.url,
      secret: SECRET,
      eventTypes: null,
      timeoutMs: 5_000,
      concurrency: 8,
      backoff: { baseMs: 20, maxMs: 200 },
    };
    const logger = createLogger('error', { pretty: false });
    return createWebhookStep(
      ctx.pool,
      new WebhookSender(options, logger, createWebhookMetrics(new Registry())),
      null,
    );
  };
  /** The receiver's acknowledged requests for these events: distinct events and requests. */
  const delivered = (events: DomainEvent[]) => {
    const ids = new Set(events.map((e) => e.eventId));
    const ok = receiver.requests.filter((r) => ids.has(r.eventId) && r.verified);
    return { events: new Set(ok.map((r) => r.eventId)).size, requests: ok.length };
  };

  /** Publishes a scenario and runs `groups` (each a handler set) until all of them caught up. */
  async function runScenario(base: number, day: string, groups: Array<readonly HandlerName[]>) {
    const events = scenarioEvents(base, day);
    await seedCache(ctx, base);
    await publish(ctx, events);
    const ids = groups.map((_, i) => `${ctx.id}-s${base}-g${i}`);
    await Promise.all(groups.map((handlers, i) => start(ids[i]!, handlers)));
    await eventually(
      async () => (await Promise.all(ids.map((g) => caughtUp(ctx, g)))).every(Boolean),
      60_000,
    );
    await stopAll();
    return events;
  }

  beforeAll(async () => {
    ctx = await createTestContext();
    receiver = await startWebhookReceiver(SECRET);
    const events = await runScenario(1000, '2024-06-01', [HANDLERS]); // one collector, every handler
    baseline = await effectsOf(ctx, 1000, '2024-06-01', events);
    expect(delivered(events)).toEqual({ events: events.length, requests: events.length });
  }, 120_000);
  afterAll(async () => {
    await stopAll().catch(() => undefined);
    await receiver?.close();
    await ctx?.close();
  });

  it('the baseline applied every effect once', () => {
    const n = scenarioEvents(1000, '2024-06-01').length;
    expect(baseline.audit).toEqual({ rows: n, events: n });
    expect(baseline.marks).toEqual([
      { handler: 'metrics', rows: n, events: n },
      { handler: 'points', rows: n, events: n },
      { handler: 'ranking', rows: n, events: n },
      { handler: 'webhook', rows: n, events: n },
    ]);
    // The paid order earns 1% of its 400 (POINTS_RATE's default); the cancelled one was never paid.
    expect(baseline.points).toEqual([{ order: 100, reason: 'order-paid', delta: 4 }]);
    expect(baseline.metrics.map((m) => [m.product, m.view_count, m.sales_count, m.stock])).toEqual([
      [1, 13, 2, 0],
      [2, 16, 1, 0],
      [3, 19, 0, 0],
    ]);
    expect(Object.keys(baseline.ranking)).toHaveLength(3);
    expect(baseline.cached).toEqual([]);
  });

  it('two groups running the same handlers, and a third started later from the earliest offset', async () => {
    const [base, day] = [2000, '2024-06-02'];
    const events = await runScenario(base, day, [HANDLERS, HANDLERS]);
    expect(await effectsOf(ctx, base, day, events)).toEqual(baseline);
    // Every event was POSTed; two groups racing on one event may both send it (at least once: the
    // receiver deduplicates on the event id), never a third time.
    const sent = delivered(events);
    expect(sent.events).toBe(events.length);
    expect(sent.requests).toBeLessThanOrEqual(2 * events.length);

    // A group started afterwards reads every event from the beginning: all are duplicates.
    await seedCache(ctx, base); // the cache handler evicts again (idempotent: only a cache miss)
    const late = await start(`${ctx.id}-late`);
    await eventually(() => caughtUp(ctx, `${ctx.id}-late`), 60_000);
    await stopAll();
    expect(delivered(events)).toEqual(sent); // nothing sent again: every event was marked
    expect(late.stats.consumed).toBe(0);
    expect(late.stats.duplicates).toBe(2 * events.length); // the baseline's events and this scenario's
    expect(await effectsOf(ctx, base, day, events)).toEqual(baseline);
  }, 120_000);

  it('groups split by function produce exactly what one all-handlers group produces', async () => {
    const [base, day] = [3000, '2024-06-03'];
    const events = await runScenario(base, day, [
      ['audit', 'metrics', 'points'],
      ['ranking', 'cache'],
      ['webhook'],
    ]);
    expect(await effectsOf(ctx, base, day, events)).toEqual(baseline);
    expect(delivered(events)).toEqual({ events: events.length, requests: events.length });
  }, 120_000);

  it('a group whose handler keeps failing (its Redis down) pauses, never skips, and holds back no other group', async () => {
    const [base, day] = [4000, '2024-06-04'];
    const port = await freePort();
    const config = ctx.configWith({ REDIS_URL: `redis://127.0.0.1:${port}` });
    const privateRedis = createRedis(config.redis); // nothing listens on the port yet: Redis is down
    let server: ChildProcess | undefined;
    try {
      const events = scenarioEvents(base, day);
      await publish(ctx, events);
      const [analytics, live] = [`${ctx.id}-analytics`, `${ctx.id}-live`];
      await start(analytics, ['audit', 'metrics']);
      running.push(
        await startCollector(
          {
            config,
            pool: ctx.pool,
            redis: privateRedis,
            kafka: ctx.kafka,
            logger: createLogger('error', { pretty: false }),
          },
          { groupId: live, handlers: ['ranking', 'cache'], batchSize: 7, sessionTimeoutMs: 6_000 },
        ),
      );
      // The group without Redis handlers catches up while the other cannot move past its first
      // event that needs Redis.
      await eventually(() => caughtUp(ctx, analytics), 60_000);
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await groupLag(ctx, live)).toBeGreaterThan(0);
      const metrics = await effectsOf(ctx, base, day, events);
      expect({ metrics: metrics.metrics, daily: metrics.daily, audit: metrics.audit }).toEqual({
        metrics: baseline.metrics,
        daily: baseline.daily,
        audit: baseline.audit,
      });

      // Redis comes up: the paused group resumes where it stopped and applies every event.
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await eventually(() => caughtUp(ctx, live), 90_000, 250);
      await stopAll();
      const ranking = await privateRedis.zrange(dailyRankingKey(compactDate(day)), 0, -1, 'WITHSCORES');
      const scores: Record<string, number> = {};
      for (let i = 0; i < ranking.length; i += 2)
        scores[String(Number(ranking[i]) - base)] = Math.round(Number(ranking[i + 1]) * 1e6) / 1e6;
      expect(scores).toEqual(baseline.ranking);
    } finally {
      await stopAll().catch(() => undefined);
      privateRedis.disconnect();
      server?.kill('SIGKILL');
    }
  }, 180_000);
});
