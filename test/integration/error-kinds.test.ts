import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorReply } from '../../src/api/errors.js';
import { classifyError } from '../../src/lib/error-kind.js';
import { fetchFailure } from '../../src/lib/fetch-errors.js';
import { Kafka, logLevel } from '../../src/lib/kafka/kafkajs.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/wait.js';

/**
 * The classifiers against the errors the real libraries throw: node-postgres against the test's own
 * database and a closed port, ioredis, kafkajs and fetch against closed ports and a server that never
 * answers. Each error lands in the bucket its callers act on (lib/errors.ts).
 */
const failure = (work: Promise<unknown>) =>
  work.then(
    () => expect.unreachable('expected a failure'),
    (err: unknown) => err,
  );

describe('error kinds of real errors', () => {
  let ctx: TestContext;
  let closedPort: number;
  let silent: Server;
  const held = new Set<Socket>();
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
    await ctx.pool.query('CREATE TABLE error_kinds_probe (id int PRIMARY KEY)');
    closedPort = await freePort();
    // Accepts connections and never answers: a hung server.
    silent = createServer((socket) => held.add(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    silent?.close();
    await ctx?.close();
  });

  /** A client of the test's database with the error listener every held client needs. */
  async function client(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: ctx.config.database.url });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  it('PostgreSQL: input, bugs, conflicts and outages by SQLSTATE and socket code', async () => {
    const at = (kind: string) => ({ kind, service: 'PostgreSQL' });
    expect(classifyError(await failure(ctx.pool.query("SELECT 'x'::int")))).toEqual(at('rejected'));
    await ctx.pool.query('INSERT INTO error_kinds_probe VALUES (1)');
    const unique = await failure(ctx.pool.query('INSERT INTO error_kinds_probe VALUES (1)'));
    expect(classifyError(unique)).toEqual(at('rejected'));
    expect(toErrorReply(unique).status).toBe(409);
    expect(classifyError(await failure(ctx.pool.query('SELECT * FROM no_such_table')))).toEqual(at('bug'));

    // Write skew under SERIALIZABLE: one of the two transactions fails with 40001.
    const [a, b] = [await client(), await client()];
    try {
      for (const c of [a, b]) {
        await c.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        await c.query('SELECT count(*) FROM error_kinds_probe');
      }
      await a.query('INSERT INTO error_kinds_probe VALUES (2)');
      await b.query('INSERT INTO error_kinds_probe VALUES (3)');
      await a.query('COMMIT');
      const serialization = await failure(b.query('COMMIT'));
      expect(classifyError(serialization)).toEqual(at('conflict'));
      expect(toErrorReply(serialization).status).toBe(409);

      // A lock held by another session, asked for with NOWAIT: 55P03.
      await a.query('BEGIN');
      await a.query('LOCK TABLE error_kinds_probe');
      await b.query('BEGIN');
      expect(classifyError(await failure(b.query('LOCK TABLE error_kinds_probe NOWAIT')))).toEqual(
        at('conflict'),
      );
      await Promise.all([a.query('ROLLBACK'), b.query('ROLLBACK')]);

      // The server ends the session (57P01), then the client's connection is gone (no code).
      const pid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const killed = failure(b.query('SELECT pg_sleep(10)'));
      await a.query('SELECT pg_terminate_backend($1)', [pid]);
      expect(classifyError(await killed)).toEqual(at('unavailable'));
      expect(classifyError(await failure(b.query('SELECT 1')))).toEqual(at('unavailable'));
    } finally {
      await Promise.all([a.end(), b.end().catch(() => undefined)]);
    }

    const refused = new pg.Client({ host: '127.0.0.1', port: closedPort });
    refused.on('error', () => undefined);
    const refusal = await failure(refused.connect());
    expect((refusal as { code?: string }).code).toBe('ECONNREFUSED');
    expect(classifyError(refusal)).toEqual(at('unavailable'));

    // pg-pool's checkout timeout has no code.
    const pool = new pg.Pool({
      connectionString: ctx.config.database.url,
      max: 1,
      connectionTimeoutMillis: 200,
    });
    pool.on('error', () => undefined);
    // The first connection gets the same 200 ms: on a loaded machine it may take longer, so try again.
    const only = await eventually(() => pool.connect(), 10_000, 50);
    try {
      expect(classifyError(await failure(pool.connect()))).toEqual(at('unavailable'));
    } finally {
      only.release();
      await pool.end();
    }
  });

  it('Redis: a reply error is a bug, a lost connection an outage', async () => {
    await ctx.redis.set('error-kinds', 'text');
    expect(classifyError(await failure(ctx.redis.lpush('error-kinds', 'x')))).toEqual({
      kind: 'bug',
      service: 'Redis',
    });
    const options = { port: closedPort, host: '127.0.0.1', lazyConnect: true };
    const gaveUp = new Redis({ ...options, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    const closed = new Redis({ ...options, retryStrategy: () => null });
    for (const r of [gaveUp, closed]) r.on('error', () => undefined);
    try {
      gaveUp.connect().catch(() => undefined);
      expect(classifyError(await failure(gaveUp.get('k')))).toEqual({
        kind: 'unavailable',
        service: 'Redis',
      });
      await closed.connect().catch(() => undefined);
      const err = await failure(closed.get('k'));
      expect((err as Error).message).toBe('Connection is closed.');
      expect(classifyError(err)).toEqual({ kind: 'unavailable', service: 'Redis' });
    } finally {
      gaveUp.disconnect();
      closed.disconnect();
    }
  });

  it('Kafka: a broker that cannot be reached is an outage, a refused request is rejected', async () => {
    const nowhere = new Kafka({
      brokers: [`127.0.0.1:${closedPort}`],
      retry: { retries: 0 },
      connectionTimeout: 500,
      logLevel: logLevel.NOTHING,
    });
    const admin = nowhere.admin();
    const err = await failure(admin.connect());
    expect(classifyError(err)).toEqual({ kind: 'unavailable', service: 'Kafka' });
    expect(classifyError(new Error('could not start', { cause: err }))).toEqual({
      kind: 'unavailable',
      service: 'Kafka',
    });
    await admin.disconnect();

    const real = ctx.kafka.admin();
    await real.connect();
    try {
      const invalid = await failure(
        real.createTopics({ topics: [{ topic: 'not a valid name!', numPartitions: 1 }] }),
      );
      expect(classifyError(invalid)).toEqual({ kind: 'rejected', service: 'Kafka' });
    } finally {
      await real.disconnect();
    }
  });

  it('fetch: a refused connection and a hung server are unavailable, with their reason', async () => {
    const refused = await failure(fetch(`http://127.0.0.1:${closedPort}/`));
    expect(fetchFailure(refused)).toEqual({ kind: 'unavailable', reason: 'ECONNREFUSED' });
    const { port } = silent.address() as { port: number };
    const hung = await failure(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(200) }));
    expect(fetchFailure(hung)).toEqual({ kind: 'unavailable', reason: 'timeout' });
  });
});
