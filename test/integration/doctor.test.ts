import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { dlqTopic } from '../../src/lib/kafka/topics.js';
import { readMigrations } from '../../src/lib/db/migrations.js';

/** Ports of this file's private servers (issue 26's range). */
const REDIS_PORT = 29780;
const CLOSED_PORT = 29781;

interface Check {
  family: string;
  name: string;
  status: 'OK' | 'WARN' | 'FAIL';
  detail: string;
  fix?: string;
}

describe('commerce doctor', () => {
  let ctx: TestContext;
  let redis: ChildProcess | undefined;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: true });
  });
  afterAll(async () => {
    if (redis?.pid && redis.exitCode === null) {
      redis.kill('SIGCONT');
      redis.kill('SIGKILL');
    }
    await ctx?.close();
  });

  // Generous: the families run at once on a loaded test machine; the default (2.5 s) is for operators.
  const doctor = async (env: Record<string, string> = {}, timeout = '15s') => {
    const result = await runCli(['doctor', '--json', '--timeout', timeout], { ...ctx.env, ...env }, 90_000);
    const checks = (result.json?.checks ?? []) as Check[];
    const find = (name: string) => {
      const c = checks.find((x) => x.name === name);
      expect(c, `${name} in ${result.stdout}${result.stderr}`).toBeDefined();
      return c!;
    };
    return { ...result, checks, find };
  };

  it('a healthy setup exits 0: nothing FAILs (WARNs allowed: RF 1, no collector yet, jobs never run)', async () => {
    const r = await doctor();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.checks.filter((c) => c.status === 'FAIL')).toEqual([]);
    for (const name of [
      'PostgreSQL reachable',
      'migrations',
      'Redis reachable',
      'Kafka reachable',
      'relays alive',
    ])
      expect(r.find(name).status).toBe('OK');
    expect(r.find(`topic ${ctx.config.kafka.topics.order}`).detail).toMatch(/3 partition\(s\), RF 1/);
    // Every line that is not OK says what fixes it.
    expect(r.checks.filter((c) => c.status !== 'OK' && !c.fix)).toEqual([]);
    const people = await runCli(['doctor', '--timeout', '15s'], ctx.env, 90_000);
    expect(people.stdout).toMatch(/^OK {4}PostgreSQL reachable: PostgreSQL \d+/m);
    expect(people.stdout).toMatch(/\d+ OK, \d+ WARN, 0 FAIL in \d+ ms/);
  });

  it('names each fault with its fix: pending migration, missing topic, stopped relay with a backlog, FAILED row, unsettled payment', async () => {
    // A migration not applied (as after a deploy that skipped `db migrate`): the latest one.
    const latest = (await readMigrations()).at(-1)!;
    await ctx.pool.query(
      'DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)',
    );
    // A topic missing.
    const admin = ctx.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [dlqTopic(ctx.config.kafka.topics.catalog)] });
    await admin.disconnect();
    // A backlog ten minutes old and no relay running; one row the relay gave up on.
    await insertEvents(ctx.pool, viewEvents(3, 2), ctx.config.kafka.topics);
    await ctx.pool.query(`UPDATE outbox_event SET created_at = now() - interval '10 minutes'`);
    await ctx.pool.query(
      `UPDATE outbox_event SET status = 'FAILED', attempt_count = 5, last_error = 'boom'
        WHERE id = (SELECT min(id) FROM outbox_event)`,
    );
    // A payment unsettled for an hour: past the recovery period.
    const order = await ctx.pool.query<{ id: number }>(
      `INSERT INTO orders (user_id, total_amount, version) VALUES ('doctor', 100, 1) RETURNING id`,
    );
    await ctx.pool.query(
      `INSERT INTO payments (order_id, amount, status, created_at) VALUES ($1, 100, 'REQUESTED', now() - interval '1 hour')`,
      [order.rows[0]!.id],
    );

    const r = await doctor();
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.json.status).toBe('FAIL');
    const expectations: Array<[string, RegExp, RegExp]> = [
      [
        'migrations',
        new RegExp(`1 pending: ${String(latest.version).padStart(3, '0')}_`),
        /commerce db migrate/,
      ],
      [`topic ${dlqTopic(ctx.config.kafka.topics.catalog)}`, /missing/, /commerce kafka topics/],
      ['relays alive', /no relay at work: 5 PENDING/, /commerce relay run/],
      ['oldest PENDING row', /5 PENDING, the oldest 1\dm old/, /commerce relay run/],
      ['FAILED rows', /1 row\(s\)/, /commerce outbox retry/],
      ['unsettled payments', /1 payment\(s\).*the oldest 60m old/, /commerce payments recover/],
    ];
    for (const [name, detail, fix] of expectations) {
      const c = r.find(name);
      expect(c.status, name).toBe('FAIL');
      expect(c.detail, name).toMatch(detail);
      expect(c.fix, name).toMatch(fix);
    }
    expect(r.find('Redis reachable').status).toBe('OK');
  });

  it('Redis that does not answer and Kafka down: each a FAIL naming it, within the check timeout, never a hang', async () => {
    redis = spawn('redis-server', ['--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const redisUrl = `redis://127.0.0.1:${REDIS_PORT}`;
    // Up first: the private server answers (policy noeviction by default).
    await expect
      .poll(async () => (await doctor({ REDIS_URL: redisUrl })).find('Redis reachable').status, {
        timeout: 60_000,
        interval: 500,
      })
      .toBe('OK');
    // Stopped (SIGSTOP): it accepts connections and never answers, the worst case for a client.
    redis.kill('SIGSTOP');
    const r = await doctor({ REDIS_URL: redisUrl, KAFKA_BROKERS: `127.0.0.1:${CLOSED_PORT}` }, '3s');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const red = r.find('Redis reachable');
    expect(red.status).toBe('FAIL');
    expect(red.detail).toMatch(/Redis is unreachable/);
    expect(red.fix).toMatch(/REDIS_URL/);
    const kafka = r.find('Kafka reachable');
    expect(kafka.status).toBe('FAIL');
    expect(kafka.detail).toMatch(new RegExp(`Kafka is unreachable at 127.0.0.1:${CLOSED_PORT}`));
    expect(kafka.fix).toMatch(/KAFKA_BROKERS/);
    expect(r.checks.some((c) => c.name.startsWith('topic '))).toBe(false);
  });
});
