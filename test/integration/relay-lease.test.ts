import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery, countOutbox, insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { createLogger } from '../../src/lib/log.js';
import { createKafka } from '../../src/lib/kafka/client.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import { EVENT_HEADERS } from '../../src/lib/kafka/event-headers.js';
import { RelayPipeline } from '../../src/jobs/relay/pipeline.js';
import { Publisher } from '../../src/jobs/relay/publisher.js';
import { emptyStats, type BatchPublisher } from '../../src/jobs/relay/cycle.js';
import { createRelayMetrics } from '../../src/jobs/relay/metrics.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';
import { sendBudget } from '../../src/jobs/relay/send-budget.js';
import type { RenewLease } from '../../src/jobs/relay/batch.js';

const logger = createLogger('silent', { pretty: false });

describe('relay lease renewal before a send', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('never sends rows whose lease another relay took while the batch waited, nor their aggregates’ later rows', async () => {
    // Products 1..3, versions 1..3: product 1 loses only v1 (a takeover claim cut by LIMIT), product 2
    // loses everything, product 3 keeps its lease.
    const events = viewEvents(3, 3, 1);
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    const options = parseRelayOptions({ batchSize: 100, relayId: 'relay-late' });
    const budget = sendBudget(options.leaseMs);
    const real = new Publisher(createKafka(ctx.config.kafka, logger, budget), logger, budget.retry);
    // The batch was claimed, then waited past its lease (behind a slow send): another relay took it
    // over just before our send starts.
    const publisher: BatchPublisher = {
      async publish(batch: ClaimedEvent[], renew: RenewLease) {
        await ctx.pool.query(
          `UPDATE outbox_event SET locked_by = 'relay-other'
            WHERE aggregate_id = '2' OR (aggregate_id = '1' AND aggregate_version = 1)`,
        );
        return real.publish(batch, renew);
      },
    };
    const stats = emptyStats();
    const pipeline = new RelayPipeline({
      db: ctx.pool,
      publisher,
      options,
      stats,
      metrics: createRelayMetrics(new Registry(), ctx.pool),
      logger,
      signal: new AbortController().signal,
    });
    try {
      expect(await pipeline.step()).toMatchObject({ claimed: 9 });
      await pipeline.finish();
    } finally {
      await real.reset();
    }

    expect(stats).toMatchObject({ published: 3, lost: 4, released: 2, failed: 0, retried: 0 });
    const messages = await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog);
    const sent = messages.map((m) => `${m.key}:v${m.headers[EVENT_HEADERS.version]}`).sort();
    expect(sent).toEqual(['3:v1', '3:v2', '3:v3']);
    const { rows: state } = await ctx.pool.query<{
      product: string;
      v: number;
      status: string;
      owner: string;
    }>(
      `SELECT aggregate_id AS product, aggregate_version AS v, status, coalesce(locked_by, '-') AS owner
         FROM outbox_event WHERE aggregate_id <> '3' ORDER BY aggregate_id, aggregate_version`,
    );
    expect(state.map((r) => `${r.product}:v${r.v} ${r.status} ${r.owner}`)).toEqual([
      '1:v1 PENDING relay-other', // the new owner's
      '1:v2 PENDING -', // released, not sent ahead of v1
      '1:v3 PENDING -',
      '2:v1 PENDING relay-other',
      '2:v2 PENDING relay-other',
      '2:v3 PENDING relay-other',
    ]);
  });

  it('rejects a lease too short for a bounded send: exit 2 naming the minimum', async () => {
    const short = await runCli(['relay', 'run', '--once', '--lease', '1s'], ctx.env);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--lease must be at least 2s/);
  });
});

const exited = (child: ChildProcess, timeoutMs: number, output: () => string) =>
  new Promise<number | null>((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(
      () => reject(new Error(`no exit within ${timeoutMs} ms:\n${output()}`)),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

/**
 * The forced stop (issue 22): a lease-mode relay caught in the middle of a batch gets SIGTERM, then a
 * second SIGTERM 100 ms later. It gives its leased rows back before it exits, so a second relay
 * publishes them at once, in order, instead of after the 30 s lease. Relay A's broker accepts
 * connections and never answers (what a SIGSTOPped broker is to a client), so its batch stays in
 * flight for its whole send budget; relay B uses the real broker.
 */
describe('relay run: a second SIGTERM gives the leases back', () => {
  let ctx: TestContext;
  let silent: Server;
  const sockets: Socket[] = [];
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    ctx = await createTestContext({ env: { LOG_LEVEL: 'info' } });
    silent = createServer((socket) => void sockets.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await ctx?.close();
  });

  const relay = (env: Record<string, string>) => {
    const child = startCli(
      ['relay', 'run', '--mode', 'lease', '--lease', '30s', '--poll-interval', '100ms'],
      {
        ...ctx.env,
        ...env,
      },
    );
    children.push(child);
    let logs = '';
    child.stderr!.on('data', (d) => (logs += d));
    return { child, logs: () => logs };
  };

  it('two SIGTERMs 100 ms apart mid-batch leave no row leased; another relay publishes them within a second, in order', async () => {
    const backlog = viewEvents(40, 5);
    await insertEvents(ctx.pool, backlog, ctx.config.kafka.topics);
    const { port } = silent.address() as { port: number };
    const a = relay({ KAFKA_BROKERS: `127.0.0.1:${port}` });
    // A leases the backlog (one batch) and its send waits on the broker.
    await eventually(
      async () => (await countOutbox(ctx.pool, `locked_until > now()`)) === backlog.length,
      30_000,
      20,
    );
    await eventually(() => sockets.length > 0, 10_000, 20); // its producer is connecting

    a.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100)); // the 100 ms between the two signals is the scenario
    a.child.kill('SIGTERM');
    const started = Date.now();
    const code = await exited(a.child, 5_000, a.logs);
    // The release, not the 30 s lease nor the send budget (the first request alone may wait 6.75 s).
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(code).toBe(130);
    expect(await countOutbox(ctx.pool, `locked_until > now()`)).toBe(0);
    expect(await countOutbox(ctx.pool, `locked_by IS NOT NULL`)).toBe(0);
    // Given back as they were: no attempt used, nothing marked.
    expect(await countOutbox(ctx.pool, `status = 'PENDING' AND attempt_count = 0`)).toBe(backlog.length);
    expect(a.logs()).toMatch(
      /"released":200,.*forced stop: send in flight abandoned, leased rows given back/,
    );

    const b = relay({});
    await waitForOutput(b.child, /relay running/);
    const ready = Date.now();
    await eventually(async () => (await countOutbox(ctx.pool, `status <> 'PUBLISHED'`)) === 0, 10_000, 20);
    // About 0.8 s measured alone (claim, producer connect, one send, one mark); the bound leaves room
    // for a loaded machine and is still far under the 30 s the leases would have held the rows.
    expect(Date.now() - ready).toBeLessThan(2_000);
    const delivery = checkDelivery(
      await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog),
      backlog.map((e) => e.eventId),
    );
    expect(delivery).toMatchObject({ missing: [], outOfOrder: [], duplicates: 0, splitKeys: [] });
    b.child.kill('SIGTERM');
    expect(await exited(b.child, 15_000, b.logs)).toBe(0);
  }, 90_000);
});
