import { isDeepStrictEqual } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, startExporter, stopCli } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { readTopic } from '../support/topic-reader.js';
import { cloudEventOf, expectedAttributes, pick } from '../support/cloud-events.js';
import { checkDelivery, countOutbox, insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { cdcContext, logicalCluster, slotRow } from '../support/cdc.js';
import { freePort } from '../support/ports.js';
import { CDC_ONLY } from '../support/prometheus.js';

// relay run --mode cdc on a private cluster with wal_level=logical (port 29700: this file's own), the
// shared Kafka; the shared PostgreSQL (wal_level=replica) only for the refusal.
// Slots are the cluster's: one per test database.
const slotOf = (ctx: TestContext) => `cdc_${ctx.id}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Relay {
  child: ChildProcess;
  output: string[];
}

describe('relay run --mode cdc', () => {
  let cluster: Awaited<ReturnType<typeof logicalCluster>>;
  const contexts: TestContext[] = [];
  const relays: Relay[] = [];

  beforeAll(async () => {
    cluster = await logicalCluster(29700);
  }, 180_000);
  afterAll(async () => {
    for (const { child } of relays)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const ctx of contexts) await ctx.close().catch(() => undefined);
    await cluster?.down();
  }, 60_000);

  const context = async () => {
    const ctx = await cdcContext(cluster.url);
    contexts.push(ctx);
    return ctx;
  };
  const relay = (ctx: TestContext, args: string[] = []): Relay => {
    const child = startCli(
      [
        'relay',
        'run',
        '--mode',
        'cdc',
        '--slot',
        slotOf(ctx),
        '--poll-interval',
        '200ms',
        '--heartbeat',
        '1s',
        ...args,
      ],
      { ...ctx.env, LOG_LEVEL: 'info' },
    );
    const output: string[] = [];
    const keep = (d: Buffer) => void output.push(d.toString());
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const r = { child, output };
    relays.push(r);
    return r;
  };
  /** The relay streams: its walsender holds the slot. */
  const streaming = async (ctx: TestContext, r?: Relay) => {
    try {
      await eventually(async () => (await slotRow(ctx.pool, slotOf(ctx)))?.active === true, 60_000, 100);
    } catch (err) {
      throw new Error(`not streaming: ${(err as Error).message}\n${r?.output.join('').slice(-3000)}`, {
        cause: err,
      });
    }
  };
  const published = (ctx: TestContext) => countOutbox(ctx.pool, `status = 'PUBLISHED'`);

  it('refuses to start on a server without wal_level=logical: exit 3 naming the setting, no stack trace', async () => {
    const shared = await createTestContext({ topics: false });
    contexts.push(shared);
    const result = await runCli(['relay', 'run', '--mode', 'cdc'], shared.env);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/wal_level = logical/);
    expect(result.stderr).toMatch(/wal_level = replica/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('SIGKILL and SIGTERM mid-stream lose and reorder nothing per aggregate', async () => {
    const ctx = await context();
    const first = relay(ctx, ['--batch-size', '20']);
    await streaming(ctx, first);
    const events = viewEvents(40, 60); // 2,400 rows, written while the relays turn over
    const chunk = events.length / 3;
    // Small transactions, so the stream is mid-way through many of them when the relay is killed.
    const write = async (from: number, to: number) => {
      for (let i = from; i < to; i += 40)
        await insertEvents(ctx.pool, events.slice(i, Math.min(i + 40, to)), ctx.config.kafka.topics);
    };
    await write(0, chunk);
    // Freeze it once it has published some, so the kill finds rows still unmarked.
    await eventually(
      async () => {
        if ((await published(ctx)) === 0) return false;
        first.child.kill('SIGSTOP');
        await sleep(100);
        if ((await countOutbox(ctx.pool, `status = 'PENDING'`)) > 0) return true;
        first.child.kill('SIGCONT');
        return false;
      },
      60_000,
      5,
    );
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));

    await write(chunk, 2 * chunk);
    const second = relay(ctx, ['--batch-size', '20']);
    await streaming(ctx, second);
    const before = await published(ctx);
    await eventually(async () => (await published(ctx)) > before, 60_000, 5);
    expect(await stopCli(second.child)).toBe(0);

    await write(2 * chunk, events.length);
    const third = relay(ctx);
    await eventually(async () => (await countOutbox(ctx.pool, `status <> 'PUBLISHED'`)) === 0, 60_000, 100);
    expect(await stopCli(third.child)).toBe(0);

    const messages = await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog);
    const delivery = checkDelivery(
      messages,
      events.map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
    expect(delivery.splitKeys).toEqual([]);
    // CDC sends CloudEvents binary headers too (issue 24): every message parses with the cloudevents
    // package's Kafka binding, its attributes those of its envelope (the value).
    const byId = new Map(events.map((e) => [e.eventId, e]));
    const wrong = messages.filter((m) => {
      const ce = cloudEventOf(m);
      const e = byId.get(ce.id)!;
      return !isDeepStrictEqual({ ...pick(ce), data: ce.data }, { ...expectedAttributes(e), data: e });
    });
    expect(wrong).toEqual([]);
  }, 180_000);

  it('a dropped slot falls back to the polling claim, then streams from a new slot: nothing lost', async () => {
    const ctx = await context();
    const r = relay(ctx, ['--batch-size', '50']);
    await streaming(ctx, r);
    const events = viewEvents(20, 40); // 800 rows
    await insertEvents(ctx.pool, events.slice(0, 400), ctx.config.kafka.topics);
    await eventually(async () => (await published(ctx)) > 0, 60_000, 20);
    // Freeze the relay, end its walsender, drop the slot: what it had not confirmed is unmarked.
    r.child.kill('SIGSTOP');
    const pid = (await slotRow(ctx.pool, slotOf(ctx)))!.activePid;
    await ctx.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await eventually(async () => (await slotRow(ctx.pool, slotOf(ctx)))?.active === false, 10_000, 50);
    await ctx.pool.query('SELECT pg_drop_replication_slot($1)', [slotOf(ctx)]);
    await insertEvents(ctx.pool, events.slice(400), ctx.config.kafka.topics);
    expect(await countOutbox(ctx.pool, `status = 'PENDING'`)).toBeGreaterThanOrEqual(400);
    r.child.kill('SIGCONT');

    await eventually(async () => (await countOutbox(ctx.pool, `status <> 'PUBLISHED'`)) === 0, 60_000, 100);
    await streaming(ctx); // a new slot
    await eventually(async () => /replication slot lost/.test(r.output.join('')), 60_000, 50);
    // And it streams again: a row written now is published through the new slot.
    const later = viewEvents(1, 1, 1_000);
    await insertEvents(ctx.pool, later, ctx.config.kafka.topics);
    await eventually(async () => (await countOutbox(ctx.pool, `status <> 'PUBLISHED'`)) === 0, 20_000, 50);
    expect(await stopCli(r.child)).toBe(0);

    const delivery = checkDelivery(
      await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog),
      [...events, ...later].map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
  }, 150_000);

  it('an idle database does not pin WAL: the heartbeat moves the slot while other databases write', async () => {
    const ctx = await context();
    const metricsPort = await freePort();
    const r = relay(ctx, ['--metrics-port', String(metricsPort)]);
    await streaming(ctx, r);
    // 32 MB of WAL from another database of the cluster: nothing the slot's publication sees.
    const other = new URL(cluster.url);
    other.pathname = '/postgres';
    const { default: pg } = await import('pg');
    const noise = new pg.Client({ connectionString: other.toString() });
    await noise.connect();
    try {
      await noise.query('CREATE TABLE IF NOT EXISTS cdc_noise (x text)');
      const lsn = async () =>
        (await noise.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
      const start = await lsn();
      for (let i = 0; i < 8; i++)
        await noise.query(`INSERT INTO cdc_noise SELECT repeat('x', 200) FROM generate_series(1, 20000)`);
      await noise.query('CHECKPOINT');
      const BOUND = 4 * 1024 * 1024;
      const { rows } = await noise.query<{ n: number }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::float8 AS n',
        [start],
      );
      expect(rows[0]!.n).toBeGreaterThan(8 * BOUND); // the noise is far past the bound
      await eventually(async () => (await slotRow(ctx.pool, slotOf(ctx)))!.lagBytes < BOUND, 15_000, 200);
      // The WAL the slot keeps (restart_lsn) follows once the server logs a snapshot (a checkpoint does).
      await noise.query('CHECKPOINT');
      await eventually(
        async () => {
          await noise.query('CHECKPOINT');
          return (await slotRow(ctx.pool, slotOf(ctx)))!.retainedBytes < BOUND;
        },
        20_000,
        500,
      );
      // What the alerts read (CDC_ONLY: no other test process exports them): the slot's gauges.
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      for (const name of Object.keys(CDC_ONLY).filter((n) => n.startsWith('relay_'))) {
        const value = new RegExp(`^${name}\\{slot="${slotOf(ctx)}"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1];
        expect(Number(value), `${name} in\n${text}`).toBeLessThan(BOUND);
      }
    } finally {
      await noise.query('DROP TABLE IF EXISTS cdc_noise').catch(() => undefined);
      await noise.end();
    }
    expect(await stopCli(r.child)).toBe(0);

    // With the relay gone, the exporter still sees the slot and the WAL it keeps (the alert's source).
    const exporter = await startExporter(ctx.env);
    try {
      const { url } = exporter;
      // Polled: a scrape whose PostgreSQL read misses the exporter's source timeout (a loaded machine)
      // drops the series for that scrape.
      const pattern = new RegExp(
        `^commerce_cdc_slot_retained_wal_bytes\\{slot="${slotOf(ctx)}",active="false"[^}]*\\} \\d`,
        'm',
      );
      await eventually(async () => pattern.test(await (await fetch(`${url}/metrics`)).text()), 30_000, 1_000);
    } finally {
      await stopCli(exporter.child);
    }
  }, 120_000);

  it('two CDC relays at once: the second stands by, publishes nothing, and takes over when the first dies', async () => {
    const ctx = await context();
    const a = relay(ctx);
    await streaming(ctx, a);
    const b = relay(ctx);
    await eventually(
      async () => /another relay owns the slot: standing by/.test(b.output.join('')),
      60_000,
      50,
    );
    const events = viewEvents(10, 30);
    await insertEvents(ctx.pool, events.slice(0, 150), ctx.config.kafka.topics);
    await eventually(async () => (await published(ctx)) === 150, 60_000, 50);
    await sleep(300);
    expect(b.output.join('')).not.toMatch(/taking over/);
    a.child.kill('SIGKILL');
    await insertEvents(ctx.pool, events.slice(150), ctx.config.kafka.topics);
    await eventually(async () => (await countOutbox(ctx.pool, `status <> 'PUBLISHED'`)) === 0, 60_000, 100);
    expect(b.output.join('')).toMatch(/the slot is ours now: taking over/);
    expect(await stopCli(b.child)).toBe(0);

    const delivery = checkDelivery(
      await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog),
      events.map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
  }, 150_000);
});
