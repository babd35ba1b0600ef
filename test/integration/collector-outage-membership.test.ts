import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { startKept, stopCli, type KeptProcess } from '../support/cli.js';
import { groupMembers, publish } from '../support/collector.js';
import { eventually } from '../support/wait.js';
import { migrate } from '../../src/lib/db/migrations.js';
import { createEvent, type DomainEvent } from '../../src/lib/events/index.js';
import { rankingIncrements } from '../../src/lib/ranking/live-ranking.js';

// Private servers this file stops and starts again (the shared 5432 and 6379 are never touched).
const [PG_PORT, REDIS_PORT, METRICS_PORT] = [29500, 29501, 29502];
const SERVICES = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
const OUTAGE_MS = 10_000;
const PRODUCTS = [1, 2, 3, 4, 5, 6];

describe('collector: a PostgreSQL or Redis outage pauses partitions, never the group membership', () => {
  let ctx: TestContext;
  let dir: string;
  let redisServer: ChildProcess | undefined;
  let collector: KeptProcess | undefined;
  const lines: string[] = [];
  const published: DomainEvent[] = [];
  const versions = new Map<number, number>();

  const pgEnv = () => ({
    ...process.env,
    SERVICES_DIR: dir,
    PG_PORT: String(PG_PORT),
    PG_DATABASE: 'outage',
  });
  const postgres = async (command: 'pg-up' | 'pg-down') =>
    (await promisify(execFile)('bash', [SERVICES, command], { env: pgEnv(), timeout: 120_000 })).stdout;

  /** A private redis-server keeping its data across a restart (append-only file, fsync on shutdown). */
  const startRedis = async () => {
    redisServer = spawn(
      'redis-server',
      [
        '--port',
        String(REDIS_PORT),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    const probe = new Redis(REDIS_PORT, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await eventually(() => probe.ping().then((r) => r === 'PONG'), 10_000, 50);
    } finally {
      probe.disconnect();
    }
  };
  const stopRedis = async () => {
    const server = redisServer!;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  };

  const produce = async (perProduct: number) => {
    const events = PRODUCTS.flatMap((p) =>
      Array.from({ length: perProduct }, () => {
        const version = (versions.get(p) ?? 0) + 1;
        versions.set(p, version);
        return createEvent(
          'ProductViewed',
          p,
          version,
          { productId: p, count: 1 + (version % 3) },
          new Date(),
        );
      }),
    );
    await publish(ctx, events);
    published.push(...events);
  };
  const count = async (query: string) => Number((await ctx.pool.query(query)).rows[0].n);
  const handled = () => count(`SELECT count(*) AS n FROM event_inbox WHERE 'metrics' = ANY (handlers)`);
  const state = async () => {
    const text = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
    return /^collector_state\{[^}]*state="(\w+)"[^}]*\} 1$/m.exec(text)?.[1];
  };
  const membershipNoise = () =>
    lines.filter((l) => /re-?join|rebalanc|crash|group join|joined the group/i.test(l));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'collector-outage-'));
    await startRedis();
    const url = /DATABASE_URL=(\S+)/.exec(await postgres('pg-up'))![1]!;
    ctx = await createTestContext({
      env: { DATABASE_URL: url, REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}`, LOG_LEVEL: 'info' },
    });
    await migrate(ctx.pool);
    // Swallow the pool's errors while the server is down (the test's own client, not the collector's).
    ctx.pool.on('error', () => undefined);
    ctx.redis.on('error', () => undefined);
  }, 120_000);

  afterAll(async () => {
    // Every step runs even if an earlier one fails: no private server may be left running.
    if (collector?.child.exitCode === null) collector.child.kill('SIGKILL');
    await ctx?.close().catch(() => undefined);
    if (redisServer?.exitCode === null) redisServer.kill('SIGKILL');
    await postgres('pg-down').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its member id through a 10 s PostgreSQL outage and a 10 s Redis outage; every event applied once', async () => {
    const started = await startKept(
      'collector',
      [
        'collector',
        'run',
        '--session-timeout',
        '6s',
        '--batch-size',
        '5',
        '--metrics-port',
        String(METRICS_PORT),
      ],
      ctx.env,
      /collector running/,
    );
    collector = started.proc;
    const keep = (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean));
    collector.child.stdout!.on('data', keep);
    collector.child.stderr!.on('data', keep);

    await produce(2);
    await eventually(async () => (await handled()) === published.length);
    const members = await groupMembers(ctx, ctx.config.kafka.groupId);
    expect(members).toHaveLength(1);
    const quiet = membershipNoise().length;

    // PostgreSQL stopped (fast shutdown: every backend terminated, then connections refused) for 10 s.
    const pgDown = Date.now();
    await postgres('pg-down');
    await produce(2);
    await eventually(async () => (await state()) === 'paused', OUTAGE_MS);
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - pgDown)));
    await postgres('pg-up');
    await produce(1);
    await eventually(async () => (await handled()) === published.length, 30_000, 250);
    await eventually(async () => (await state()) === 'running', 10_000);
    expect(await groupMembers(ctx, ctx.config.kafka.groupId), lines.slice(-80).join('\n')).toEqual(members);

    // Redis stopped for 10 s: the database step succeeds, the ranking and cache steps cannot.
    const redisDown = Date.now();
    await stopRedis();
    await produce(2);
    await eventually(async () => (await state()) === 'paused', OUTAGE_MS);
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - redisDown)));
    await startRedis();
    await produce(1);
    await eventually(async () => (await handled()) === published.length, 30_000, 250);
    // The Redis step is done once the ranking holds every event (the partitions resumed).
    const expected = new Map<string, number>();
    for (const e of published)
      for (const i of rankingIncrements(e, ctx.config.ranking, ctx.config.timezone))
        expected.set(`${i.key} ${i.productId}`, (expected.get(`${i.key} ${i.productId}`) ?? 0) + i.increment);
    const ranking = async () => {
      const seen = new Map<string, number>();
      for (const k of expected.keys()) {
        const [key, member] = k.split(' ') as [string, string];
        seen.set(k, Number(await ctx.redis.zscore(key, member)));
      }
      return seen;
    };
    await eventually(
      async () => {
        const seen = await ranking();
        return [...expected].every(([k, v]) => Math.abs(seen.get(k)! - v) < 1e-9);
      },
      30_000,
      250,
    );
    await eventually(async () => (await state()) === 'running', 10_000);

    expect(await groupMembers(ctx, ctx.config.kafka.groupId), lines.slice(-80).join('\n')).toEqual(members);
    expect(membershipNoise().slice(quiet)).toEqual([]);
    expect(lines.some((l) => /collector paused/.test(l))).toBe(true);
    // Nothing lost, nothing doubled: each event audited once, every view counted once, ranked once.
    expect(await count(`SELECT count(DISTINCT event_id) AS n FROM event_log`)).toBe(published.length);
    expect(await count(`SELECT count(*) AS n FROM event_log`)).toBe(published.length);
    const views = published.reduce(
      (sum, e) => sum + (e.eventType === 'ProductViewed' ? e.payload.count : 0),
      0,
    );
    expect(await count(`SELECT sum(view_count) AS n FROM product_metrics`)).toBe(views);
    for (const [k, score] of await ranking()) expect(score, k).toBeCloseTo(expected.get(k)!, 9);

    expect(await stopCli(collector.child)).toBe(0);
  }, 120_000);
});
