import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { startKept, stopCli, type KeptProcess } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { migrate } from '../../src/lib/db/migrations.js';
import { rows, sql } from '../../src/lib/db/query.js';
import { apiClient, type ApiClient } from '../../src/jobs/demo/http.js';
import { seedCatalog } from '../../src/jobs/demo/seed.js';
import { runTraffic } from '../../src/jobs/demo/traffic.js';
import { waitForCatchUp } from '../../src/jobs/demo/catch-up.js';
import { compareMetrics } from '../../src/jobs/demo/verify.js';

// This file terminates backends and restarts the server: a private PostgreSQL cluster, never the shared 5432.
const SERVICES = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
const PG_ENV = {
  ...process.env,
  SERVICES_DIR: `/tmp/pg-fault-${randomBytes(4).toString('hex')}`,
  PG_PORT: String(randomInt(20_000, 30_000)),
  PG_DATABASE: 'commerce_fault',
};
const cluster = async (command: 'pg-up' | 'pg-down') =>
  (await promisify(execFile)('bash', [SERVICES, command], { env: PG_ENV, timeout: 120_000 })).stdout;
const ADMIN_TOKEN = 'pg-fault-admin-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the cluster does to every session on a failover or a pooler's reset. */
async function terminateBackends(url: string): Promise<number> {
  const admin = new pg.Client({ connectionString: url });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const { rows: killed } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return killed.length;
  } finally {
    await admin.end();
  }
}

/** Wraps the demo's client: no more than `perSecond` requests per worker, and every answer tallied. */
function tallying(client: ApiClient, perSecond: number) {
  const tally = { unavailable: 0, otherFailures: [] as string[] };
  const wrapped: ApiClient = {
    url: client.url,
    async call(method, path, options) {
      await sleep(1_000 / perSecond);
      try {
        const res = await client.call(method, path, options);
        if (res.status === 503 && res.body?.error?.code === 'UNAVAILABLE') tally.unavailable++;
        else if (res.status >= 500) tally.otherFailures.push(`${method} ${path}: ${res.status}`);
        return res;
      } catch (err) {
        tally.otherFailures.push(`${method} ${path}: ${(err as Error).message}`);
        throw err;
      }
    },
  };
  return { client: wrapped, tally };
}

describe('PostgreSQL connections terminated and the server restarted under traffic', () => {
  let ctx: TestContext;
  const procs: KeptProcess[] = [];

  beforeAll(async () => {
    const url = /DATABASE_URL=(\S+)/.exec(await cluster('pg-up'))![1]!;
    ctx = await createTestContext({ env: { DATABASE_URL: url } });
    await migrate(ctx.pool);
  });

  afterAll(async () => {
    // Each step runs even if an earlier one fails: the private cluster must never be left running.
    for (const { child } of procs)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await ctx?.close().catch(() => undefined);
    await cluster('pg-down').catch(() => undefined);
    await rm(PG_ENV.SERVICES_DIR, { recursive: true, force: true });
  });

  it('no process exits, every event is published and applied once, metrics match the answered requests', async () => {
    const env = { ...ctx.env, ADMIN_TOKEN, LOG_LEVEL: 'info' };
    const api = await startKept(
      'api',
      ['api', 'serve', '--port', '0'],
      env,
      /listening on http:\/\/127\.0\.0\.1:\d+/,
    );
    procs.push(api.proc);
    for (const n of [1, 2]) {
      const relay = await startKept(
        `relay ${n}`,
        ['relay', 'run', '--lease', '3s', '--batch-size', '20'],
        env,
        /relay running/,
      );
      procs.push(relay.proc);
    }
    const collector = await startKept(
      'collector',
      ['collector', 'run', '--session-timeout', '6s', '--batch-size', '10'],
      env,
      /collector running/,
    );
    procs.push(collector.proc);

    const url = api.line.replace('listening on ', '');
    const seed = await seedCatalog(apiClient(url, ADMIN_TOKEN), 10);
    const { client, tally } = tallying(apiClient(url, ADMIN_TOKEN), 40);
    const stopTraffic = new AbortController();
    const traffic = runTraffic({
      client,
      products: seed.products,
      users: 8,
      orders: 100_000,
      concurrency: 4,
      userPrefix: 'pgf-',
      signal: stopTraffic.signal,
    });

    // A fault schedule under steady traffic, not synchronisation: each sleep is how long traffic runs
    // between faults, during an outage, or after it (the checks below wait on their conditions).
    let terminated = 0;
    for (let i = 0; i < 4; i++) {
      await sleep(1_500);
      terminated += await terminateBackends(ctx.config.database.url);
    }
    await sleep(1_000);
    await cluster('pg-down');
    await sleep(6_000); // down for a while: API answers 503, relays and collector pause
    await cluster('pg-up');
    await sleep(4_000);
    stopTraffic.abort();
    const ledger = await traffic;

    expect(terminated).toBeGreaterThan(8); // API, relays (+ LISTEN), collector: all had sessions
    expect(tally.otherFailures).toEqual([]);
    expect(tally.unavailable).toBeGreaterThan(0); // the outage was seen
    expect(ledger.counts.unexpected).toBe(tally.unavailable); // 503s only, simply not counted
    expect(ledger.counts.orders).toBeGreaterThan(20);
    expect(ledger.counts.views).toBeGreaterThan(20);

    const dead = procs.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    expect(
      dead.map((p) => `${p.name}: ${p.child.exitCode ?? p.child.signalCode}\n${p.output.join('')}`),
    ).toEqual([]);
    for (const p of procs) expect(p.child.pid).toBe(p.pid);

    // Both relays' LISTEN sessions came back by themselves (not only the polling fallback).
    await eventually(async () => {
      const { rows: listening } = await ctx.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE application_name = 'commerce-relay-listen'
            AND datname = current_database()`,
      );
      return listening.length === 2;
    }, 30_000);
    expect(await stopCli(api.proc.child)).toBe(0); // flushes the buffered views into the outbox

    const progress = await waitForCatchUp({ pool: ctx.pool, watermark: '0', timeoutMs: 90_000 });
    expect(progress).toMatchObject({
      pending: 0,
      failed: 0,
      published: progress.written,
      consumed: progress.written,
    });
    const handled = await rows<{ event_id: string; n: number }>(
      ctx.pool,
      sql(
        'pg-fault.handled',
        `SELECT o.event_id, (SELECT count(*)::int FROM event_log l WHERE l.event_id = o.event_id) AS n
           FROM outbox_event o
          WHERE NOT EXISTS (SELECT 1 FROM event_inbox h WHERE h.event_id = o.event_id AND 'metrics' = ANY (h.handlers))
             OR (SELECT count(*) FROM event_log l WHERE l.event_id = o.event_id) <> 1`,
      ),
    );
    expect(handled).toEqual([]); // every event handled, and applied (logged) exactly once
    expect(await compareMetrics(ctx.pool, ledger.expected())).toEqual([]);

    for (const p of procs.slice(1)) expect(await stopCli(p.child, 'SIGTERM', 45_000)).toBe(0);
  }, 240_000);

  it('api serve counts views while PostgreSQL is down and, on SIGTERM, flushes them once it is back', async () => {
    const env = { ...ctx.env, ADMIN_TOKEN, LOG_LEVEL: 'info' };
    const api = await startKept(
      'api (shutdown)',
      ['api', 'serve', '--port', '0'],
      env,
      /listening on http:\/\/127\.0\.0\.1:\d+/,
    );
    procs.push(api.proc);
    const client = apiClient(api.line.replace('listening on ', ''), ADMIN_TOKEN);
    const { id } = (await seedCatalog(client, 1)).products[0]!;
    const viewed = async () => {
      const { rows: r } = await ctx.pool.query<{ n: number }>(
        `SELECT coalesce(sum((payload->'payload'->>'count')::int), 0)::int AS n FROM outbox_event
          WHERE event_type = 'ProductViewed' AND aggregate_id = $1`,
        [String(id)],
      );
      return r[0]!.n;
    };
    expect((await client.call('GET', `/products/${id}`)).status).toBe(200); // now cached in Redis
    await eventually(async () => (await viewed()) === 1, 10_000, 100);

    await cluster('pg-down');
    for (let i = 0; i < 30; i++) expect((await client.call('GET', `/products/${id}`)).status).toBe(200);
    const order = await client.call('POST', '/orders', {
      user: 'pgf-down',
      body: { items: [{ productId: id, quantity: 1 }] },
    });
    expect(order).toMatchObject({ status: 503, body: { error: { code: 'UNAVAILABLE' } } });
    await sleep(2_500); // flush ticks fail meanwhile; the counts stay

    const exited = stopCli(api.proc.child, 'SIGTERM', 60_000);
    await sleep(3_000); // a window: the API must not give up (exit) while PostgreSQL is down
    expect(api.proc.child.exitCode).toBeNull(); // still retrying its last flush
    await cluster('pg-up');
    expect(await exited).toBe(0);
    expect(await viewed()).toBe(31);
  }, 120_000);
});
