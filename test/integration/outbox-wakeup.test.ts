import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPool } from '../../src/lib/db/pool.js';
import { withTransaction } from '../../src/lib/db/transaction.js';
import { writeOutbox } from '../../src/lib/outbox/write.js';
import { notifyConnection, OUTBOX_CHANNEL, OutboxWaker } from '../../src/lib/outbox/waker.js';
import { startRelay, type Relay } from '../../src/jobs/relay/relay.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';
import { createLogger } from '../../src/lib/log.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { seedProduct, startApi, type TestApi } from '../support/api.js';
import { viewEvents } from '../support/outbox-fixtures.js';
import { eventually } from '../support/wait.js';

describe('outbox wake-up (issue 23): after the commit, never inside the writing transaction', () => {
  let ctx: TestContext;
  let listener: pg.Client;
  const heard: Array<{ processId: number; at: number }> = [];
  beforeAll(async () => {
    ctx = await createTestContext();
    listener = new pg.Client({ connectionString: ctx.config.database.url });
    listener.on('error', () => undefined);
    listener.on('notification', (n) => heard.push({ processId: n.processId, at: Date.now() }));
    await listener.connect();
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
  });
  afterAll(async () => {
    await listener?.end();
    await ctx?.close();
  });

  it('outbox_event has no trigger (no NOTIFY in a writer), and nothing else in the schema calls pg_notify', async () => {
    const { rows: triggers } = await ctx.pool.query(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = 'outbox_event'::regclass AND NOT tgisinternal`,
    );
    expect(triggers).toEqual([]);
    const { rows: functions } = await ctx.pool.query(
      `SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND prosrc ILIKE '%notify%'`,
    );
    expect(functions).toEqual([]);
  });

  it('a transaction writing outbox rows does not notify; its process does once it committed', async () => {
    const before = heard.length;
    let writer = 0;
    let committedAt = 0;
    await withTransaction(ctx.pool, async (client) => {
      writer = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await writeOutbox(client, viewEvents(2, 1, 700_001), ctx.config.kafka.topics);
    }).then(() => (committedAt = Date.now()));
    await eventually(() => heard.length > before, 5_000, 5);
    const wake = heard[before]!;
    expect(wake.processId).not.toBe(writer);
    expect(wake.at).toBeGreaterThanOrEqual(committedAt);
  });

  it('wakes again after its connection was killed; a waker whose server is down only counts failures', async () => {
    let written = 0;
    const write = () =>
      withTransaction(ctx.pool, (client) =>
        writeOutbox(client, viewEvents(1, 1, 700_101 + written++), ctx.config.kafka.topics),
      );
    const before = heard.length;
    await write();
    await eventually(() => heard.length > before, 5_000, 5);
    const first = heard[heard.length - 1]!.processId;
    await ctx.pool.query(`SELECT pg_terminate_backend($1)`, [first]);
    // The next request after the loss may be spent discovering it (counted, dropped): write until heard.
    const after = heard.length;
    await eventually(
      async () => {
        await write();
        return heard.slice(after).some((n) => n.processId !== first);
      },
      10_000,
      200,
    );

    const down = notifyConnection({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    const waker = new OutboxWaker(() => down.send());
    waker.wake();
    await eventually(() => waker.failed === 1, 5_000, 5);
    expect(waker.sent).toBe(0);
    await down.end();
  });

  describe('a relay polling every 30 s', () => {
    let api: TestApi;
    let relayPool: pg.Pool;
    let relay: Relay;
    beforeAll(async () => {
      api = await startApi(ctx);
      relayPool = createPool({
        url: ctx.config.database.url,
        poolMax: 4,
        applicationName: 'wakeup-test-relay',
      });
      relay = await startRelay({
        config: ctx.config,
        pool: relayPool,
        logger: createLogger('error', { pretty: false }),
        options: parseRelayOptions({ relayId: 'wakeup-test', pollInterval: '30s' }),
      });
    });
    afterAll(async () => {
      await relay?.stop();
      await relayPool?.end();
      await api?.close();
    });

    it("publishes an order's events within a second of its commit (the API woke it)", async () => {
      const product = await seedProduct(api, { stock: 10 });
      // The relay has published the product's event and gone back to its 30 s wait: all of its
      // pool's connections idle, twice over.
      const pending = async () =>
        (await ctx.pool.query(`SELECT count(*)::int AS n FROM outbox_event WHERE status <> 'PUBLISHED'`))
          .rows[0].n as number;
      const relayBusy = async () =>
        (
          await ctx.pool.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'wakeup-test-relay' AND state <> 'idle'`,
          )
        ).rows[0].n as number;
      let idleChecks = 0;
      await eventually(
        async () => {
          idleChecks = (await pending()) === 0 && (await relayBusy()) === 0 ? idleChecks + 1 : 0;
          return idleChecks >= 3;
        },
        10_000,
        50,
      );
      const order = await api.call('POST', '/orders', {
        user: 'wakeup-user',
        body: { items: [{ productId: product.id, quantity: 1 }] },
      });
      expect(order.status).toBe(201);
      await eventually(async () => (await pending()) === 0, 5_000, 10);
      const { rows } = await ctx.pool.query<{ event_type: string; ms: number }>(
        `SELECT event_type, extract(epoch FROM published_at - created_at) * 1000 AS ms
           FROM outbox_event WHERE (aggregate_type = 'order' AND aggregate_id = $1)
              OR (event_type = 'StockAdjusted' AND aggregate_id = $2)`,
        [String(order.body.id), String(product.id)],
      );
      expect(rows.map((r) => r.event_type).sort()).toEqual(['OrderCreated', 'StockAdjusted']);
      for (const row of rows) expect(row.ms).toBeLessThan(1_000);
    });
  });
});
