import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import { committedOffsets, publish, refuseEvents } from '../support/collector.js';
import { countOutbox, insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { createEvent } from '../../src/lib/events/index.js';
import { startCollector } from '../../src/jobs/collector/collector.js';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import { startRelay } from '../../src/jobs/relay/relay.js';
import { parseRelayOptions, type RelayMode } from '../../src/jobs/relay/options.js';

/** A real pino logger whose JSON lines land in an array. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

async function state(registry: Registry, name: string): Promise<string | undefined> {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values.find((v) => v.value === 1)?.labels.state as string | undefined;
}

describe('relay and collector lifecycle', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('collector: stop() cuts a retry backoff short; state and log lines say what it is doing', async () => {
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const refusals = await refuseEvents(ctx.pool, 'all', 'handler exploded');
    const collector = await startCollector(
      { config: ctx.config, pool: ctx.pool, redis: ctx.redis, kafka: ctx.kafka, logger },
      // A ten-minute backoff and a session long enough that kafkajs does not give up on the batch
      // first: stop() returns within the test's timeout only if it cuts the backoff short.
      { sessionTimeoutMs: 120_000, maxAttempts: 3, backoff: { baseMs: 600_000, maxMs: 600_000 }, registry },
    );
    expect(await state(registry, 'collector_state')).toBe('running');
    await publish(ctx, [createEvent('ProductViewed', 7, 1, { productId: 7, count: 1 }, new Date())]);
    await eventually(async () => (await refusals.attempts()) === 1);

    await collector.stop();
    expect(await refusals.attempts()).toBe(1);
    await refusals.remove();
    // stop() resolves once the consumer has left its group, not before.
    const { groups } = await withAdmin(ctx.kafka, (admin) => admin.describeGroups([collector.groupId]));
    expect(groups[0]!.members).toEqual([]);
    expect(await state(registry, 'collector_state')).toBe('stopped');
    // Nothing was committed for the event that never went through: it is redelivered later.
    const committed = await committedOffsets(ctx, collector.groupId, ctx.config.kafka.topics.catalog);
    expect(committed.every((o) => o <= 0)).toBe(true);
    const changes = lines.filter((l) => l.state !== undefined).map((l) => `${l.from}->${l.state}`);
    expect(changes).toEqual(['starting->running', 'running->stopping', 'stopping->stopped']);
    expect(lines.every((l) => l.component === 'collector' && l.instance === lines[0]!.instance)).toBe(true);
  });

  it("relay: aborting the caller's signal ends its loop; state and log lines say what it is doing", async () => {
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const caller = new AbortController();
    await insertEvents(ctx.pool, viewEvents(2, 2), ctx.config.kafka.topics);
    const options = parseRelayOptions({ relayId: 'relay-lifecycle', pollInterval: '10m' });
    const relay = await startRelay({
      config: ctx.config,
      pool: ctx.pool,
      logger,
      options,
      registry,
      signal: caller.signal,
    });
    expect(await state(registry, 'relay_state')).toBe('running');
    await eventually(() => relay.stats.published === 4);

    caller.abort();
    await relay.finished; // the ten-minute poll wait ends with the signal
    expect(await state(registry, 'relay_state')).toBe('stopping');
    expect((await relay.stop()).remaining).toBe(0);
    expect(await state(registry, 'relay_state')).toBe('stopped');
    const changes = lines.filter((l) => l.state !== undefined).map((l) => `${l.from}->${l.state}`);
    expect(changes).toEqual(['starting->running', 'running->stopping', 'stopping->stopped']);
    expect(lines.every((l) => l.component === 'relay' && l.instance === 'relay-lifecycle')).toBe(true);
  });

  describe('relay: a forced stop gives back a batch whose send hangs', () => {
    // A "broker" that accepts connections and never answers: the relay's producer waits on it for
    // its request timeout (seconds) while the claimed batch is held.
    let silent: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      silent = createServer((socket) => void sockets.push(socket.on('error', () => undefined)));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent?.close(resolve));
    });

    it.each<RelayMode>(['lease', 'lock'])(
      '%s mode: stop({ timeoutMs }) releases the rows by the deadline',
      async (mode) => {
        await ctx.pool.query(`DELETE FROM outbox_event`);
        await insertEvents(ctx.pool, viewEvents(5, 2, 500), ctx.config.kafka.topics);
        const { port } = silent.address() as { port: number };
        const config = { ...ctx.config, kafka: { ...ctx.config.kafka, brokers: [`127.0.0.1:${port}`] } };
        const relayId = `relay-forced-${mode}`;
        const relay = await startRelay({
          config,
          pool: ctx.pool,
          logger: capturingLogger().logger,
          options: parseRelayOptions({ relayId, mode, lease: '30s' }),
        });
        // Claimed and held: leased (lease mode) or locked by the claim's open transaction (lock mode).
        const held = () =>
          mode === 'lease'
            ? countOutbox(ctx.pool, `locked_by = $1`, [relayId])
            : countOutbox(ctx.pool, `id NOT IN (SELECT id FROM outbox_event FOR UPDATE SKIP LOCKED)`);
        await eventually(async () => (await held()) === 10, 10_000, 20);

        const started = Date.now();
        const summary = await relay.stop({ timeoutMs: 300 });
        expect(Date.now() - started).toBeLessThan(3_000); // the deadline, not the producer's timeouts
        expect(await held()).toBe(0);
        expect(await countOutbox(ctx.pool, `status = 'PENDING' AND attempt_count = 0`)).toBe(10);
        expect(summary).toMatchObject({ published: 0, remaining: null });
        await relay.finished;
      },
    );
  });
});
