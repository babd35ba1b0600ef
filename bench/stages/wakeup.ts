import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  notifyConnection,
  OUTBOX_CHANNEL,
  OutboxWaker,
  WAKE_INTERVAL_MS,
  type NotifyConnection,
} from '../../src/lib/outbox/waker.js';
import { createBenchContext, type BenchContext } from '../lib/context.js';
import {
  figure,
  target,
  type Figure,
  type StageOptions,
  type StageResult,
  type Target,
} from '../lib/measure.js';

const run = promisify(execFile);

/** Processes whose wakers NOTIFY in variant (c): a few API replicas, each at its coalesced rate. */
const WAKERS = 3;
/** Quick runs keep the comparison the target needs; full runs add synchronous_commit off and the control. */
function variants(quick: boolean): Variant[] {
  return quick ? ['none', 'trigger', 'waker'] : ['none', 'trigger', 'waker', 'waker-async', 'control'];
}

// The API's order transaction writes its outbox rows in one statement: a StockAdjusted and an
// OrderCreated here (the same columns and payload sizes; other tables left out: only the commit's
// wake-up differs between variants).
const SCRIPT = `\\set n random(1, 2000000000)
BEGIN;
INSERT INTO outbox_event
  (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, topic, partition_key, payload)
VALUES
  (gen_random_uuid(), 'product', :client_id::text || '-' || :n::text, 2, 'StockAdjusted', 'catalog', :client_id::text || '-' || :n::text,
   '{"eventType":"StockAdjusted","aggregateType":"product","version":2,"occurredAt":"2026-12-07T12:00:00.000Z","payload":{"productId":1,"delta":-1,"stock":9,"reason":"order"}}'),
  (gen_random_uuid(), 'order', :client_id::text || '-' || :n::text, 1, 'OrderCreated', 'order', :client_id::text || '-' || :n::text,
   '{"eventType":"OrderCreated","aggregateType":"order","version":1,"occurredAt":"2026-12-07T12:00:00.000Z","payload":{"orderId":1,"userId":"bench-user","totalAmount":1000,"items":[{"productId":1,"quantity":1,"unitPrice":1000}]}}');
COMMIT;
`;

// The trigger migration 003 had (dropped by 013): a statement-level NOTIFY in every writer.
const OLD_TRIGGER = `
CREATE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${OUTBOX_CHANNEL}', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_notify();`;

type Variant = 'none' | 'trigger' | 'waker' | 'waker-async' | 'control';

const LABEL: Record<Variant, string> = {
  none: 'no wake-up',
  trigger: 'NOTIFY trigger in the writer (before)',
  waker: `after-commit waker, ${WAKERS} processes`,
  'waker-async': `after-commit waker, ${WAKERS} processes, synchronous_commit off`,
  control: `SELECT 1 at the waker's rate, ${WAKERS} processes (control)`,
};

/**
 * Outbox wake-up (issue 23): pgbench commits the order's two outbox rows at 16 and 64 clients with
 * (a) no wake-up, (b) the NOTIFY trigger writers had before migration 013, (c) no trigger and
 * WAKERS real OutboxWakers NOTIFYing as often as they coalesce to (each asked every ms, as a busy API
 * process would), plus (c) with synchronous_commit off for the waker's connection, and a control sending SELECT 1
 * at the waker's rate (what any query at that rate costs the writers on this machine). Variants run one
 * after the other per concurrency, on one scratch database, a relay-like LISTENer connected.
 */
export async function wakeupStage({ quick, log }: StageOptions): Promise<StageResult> {
  const seconds = quick ? 2 : 10;
  const ctx = await createBenchContext();
  const dir = await mkdtemp(join(tmpdir(), 'bench-wakeup-'));
  const listener = new pg.Client({ connectionString: ctx.config.database.url });
  listener.on('error', () => undefined);
  let heard = 0;
  listener.on('notification', () => heard++);
  try {
    const script = join(dir, 'order-outbox.sql');
    await writeFile(script, SCRIPT);
    await listener.connect();
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
    const figures: Figure[] = [];
    const targets: Target[] = [];
    for (const clients of [16, 64]) {
      const tps = {} as Record<Variant, number>;
      const run = variants(quick);
      for (const variant of run) {
        await ctx.pool.query('TRUNCATE outbox_event');
        log(`wakeup: ${clients} clients, ${LABEL[variant]}, ${seconds}s`);
        const before = heard;
        tps[variant] = await withVariant(ctx, variant, () => pgbench(ctx, script, clients, seconds));
        const rate = (heard - before) / seconds;
        log(`wakeup:   ${tps[variant].toFixed(0)} commits/s, ${rate.toFixed(0)} notifications/s heard`);
      }
      const baseline = { name: `${LABEL.none}, ${clients} clients`, value: tps.none };
      const at = (variant: Variant) =>
        figure(
          'wakeup',
          `outbox write, ${clients} clients, ${LABEL[variant]}`,
          tps[variant],
          'commits/s',
          baseline,
        );
      const waker = at('waker');
      figures.push(
        figure('wakeup', `outbox write, ${clients} clients, ${LABEL.none}`, tps.none, 'commits/s'),
        ...run.filter((v) => v !== 'none').map((v) => (v === 'waker' ? waker : at(v))),
      );
      targets.push(
        target(
          'wakeup',
          `after-commit waker / no wake-up, ${clients} clients >= 0.9`,
          waker.ratio!,
          'min',
          0.9,
        ),
      );
    }
    return { figures, targets };
  } finally {
    await listener.end().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await ctx.close();
  }
}

async function withVariant(ctx: BenchContext, variant: Variant, fn: () => Promise<number>): Promise<number> {
  if (variant === 'none') return fn();
  if (variant === 'trigger') {
    await ctx.pool.query(OLD_TRIGGER);
    try {
      return await fn();
    } finally {
      await ctx.pool.query(
        'DROP TRIGGER outbox_event_notify ON outbox_event; DROP FUNCTION outbox_event_notify()',
      );
    }
  }
  // Each waker is asked every millisecond (an API process committing orders all the time) and sends
  // what it coalesces that to, on a connection of its own, as in production.
  const connections = Array.from({ length: WAKERS }, () =>
    notifyConnection({ connectionString: ctx.config.database.url }, variant !== 'waker-async'),
  );
  const control = new pg.Pool({ connectionString: ctx.config.database.url, max: WAKERS });
  control.on('error', () => undefined);
  const send = (c: NotifyConnection) =>
    variant === 'control' ? () => control.query('SELECT 1') : () => c.send();
  const wakers = connections.map((c) => new OutboxWaker(send(c), WAKE_INTERVAL_MS));
  const ticker = setInterval(() => wakers.forEach((w) => w.wake()), 1);
  try {
    return await fn();
  } finally {
    clearInterval(ticker);
    wakers.forEach((w) => w.stop());
    await Promise.all([...connections.map((c) => c.end()), control.end()]);
  }
}

/** Commits per second pgbench reports (initial connection time excluded). */
async function pgbench(ctx: BenchContext, script: string, clients: number, seconds: number): Promise<number> {
  const { stdout } = await run(
    pgbenchPath(),
    [
      '-n',
      '-M',
      'prepared',
      '-f',
      script,
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(seconds),
      ctx.config.database.url,
    ],
    { maxBuffer: 1 << 20 },
  );
  const tps = /tps = ([\d.]+)/.exec(stdout);
  if (!tps) throw new Error(`pgbench printed no tps: ${stdout.slice(-500)}`);
  return Number(tps[1]);
}

/** pgbench comes with PostgreSQL: on PATH, or in the server's bin directory (Debian keeps it there). */
function pgbenchPath(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin', 'pgbench')).find((p) => existsSync(p));
  return found ?? 'pgbench';
}
