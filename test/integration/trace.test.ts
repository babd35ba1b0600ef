import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedProduct, useTestApi } from '../support/api.js';
import { runCli, startKept, stopCli, type KeptProcess } from '../support/cli.js';
import { committedOffsets, endOffsets } from '../support/collector.js';
import { readTopic } from '../support/topic-reader.js';
import { eventually } from '../support/wait.js';
import { dlqTopic, ensureTopics, pipelineTopics } from '../../src/lib/kafka/topics.js';

/** Nothing listens here (this file's port range, 31100-31199): "Kafka down". */
const CLOSED_PORT = 31_101;
const DEAD_USER = 'trace-dead';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

/**
 * `commerce trace` over one real pipeline shared by every case: the in-process API paying through a
 * `gateway serve` process, `relay run` and two `collector run` groups (A: the default handlers, B:
 * ranking and cache) as processes, the trace itself through bin/run.js.
 */
describe('commerce trace', () => {
  const s = useTestApi({
    gateway: [
      '--settle-delay',
      '20ms',
      '--latency',
      '1ms',
      '--success-rate',
      '1',
      '--callback-duplicate-rate',
      '0',
    ],
  });
  const procs: KeptProcess[] = [];
  let env: Record<string, string>;
  let groupA: string;
  let groupB: string;
  let orderTopic: string;
  let productId: number;

  beforeAll(async () => {
    const { ctx } = s;
    await ensureTopics(ctx.kafka, pipelineTopics(ctx.config.kafka));
    env = { ...ctx.env, LOG_LEVEL: 'info' };
    groupA = ctx.config.kafka.groupId;
    groupB = `${groupA}-live`;
    orderTopic = ctx.config.kafka.topics.order;
    const kept = await Promise.all([
      startKept('relay', ['relay', 'run'], env, /relay running/, 60_000),
      startKept(
        'collector A',
        ['collector', 'run', '--session-timeout', '6s'],
        env,
        /collector running/,
        60_000,
      ),
      startKept(
        'collector B',
        ['collector', 'run', '--group', groupB, '--handlers', 'ranking,cache', '--session-timeout', '6s'],
        env,
        /collector running/,
        60_000,
      ),
    ]);
    procs.push(...kept.map((k) => k.proc));
    productId = (await seedProduct(s.api, { price: 500, stock: 100 })).id;
  }, 90_000);

  afterAll(async () => {
    for (const { child } of procs)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const order = async (user: string) => {
    const res = await s.api.call('POST', '/orders', {
      user,
      body: { items: [{ productId, quantity: 1 }] },
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  };
  const trace = (args: string[], extra: Record<string, string> = {}) =>
    runCli(['trace', ...args], { ...env, LOG_LEVEL: 'warn', ...extra }, 60_000);
  const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

  let paidOrder: number;

  it('an order through the whole pipeline: every hop with its time, the offset kafkajs sees, both groups, the payment', async () => {
    const { ctx } = s;
    paidOrder = await order('trace-user');
    expect((await s.api.call('POST', `/orders/${paidOrder}/pay`, { user: 'trace-user' })).status).toBe(202);
    await eventually(
      async () =>
        (await s.api.call('GET', `/orders/${paidOrder}`, { user: 'trace-user' })).body.status === 'PAID',
      20_000,
    );
    // Everything applied by A's handlers, and B past every event of the order topic.
    await eventually(async () => {
      const { rows } = await ctx.pool.query(
        `SELECT count(*)::int AS n FROM outbox_event o LEFT JOIN event_inbox i USING (event_id)
          WHERE o.aggregate_type = 'order' AND o.aggregate_id = $1
            AND (o.status <> 'PUBLISHED' OR i.handlers IS NULL OR NOT i.handlers @> '{audit,metrics,ranking,points}')`,
        [String(paidOrder)],
      );
      if (rows[0].n !== 0) return false;
      const ends = await endOffsets(ctx, orderTopic);
      const b = await committedOffsets(ctx, groupB, orderTopic);
      const a = await committedOffsets(ctx, groupA, orderTopic);
      return ends.every((end, p) => end === 0 || (b[p] === end && a[p] === end));
    }, 30_000);

    const [json, human, onKafka] = await Promise.all([
      trace(['order', String(paidOrder), '--json']),
      trace(['order', String(paidOrder)]),
      readTopic(ctx.kafka, orderTopic),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const r: Json = json.json;
    expect(r.complete).toBe(true);
    expect(r.aggregate.summary).toMatch(/^PAID/);
    expect(r.groups).toEqual(expect.arrayContaining([groupA, groupB]));
    expect(r.events.map((e: Json) => e.eventType)).toEqual(['OrderCreated', 'PaymentRequested', 'OrderPaid']);
    for (const e of r.events) {
      expect(e.outbox.status).toBe('PUBLISHED');
      // The offset kafkajs reads for this event id, and its partition.
      const m = onKafka.find((x) => x.headers['event-id'] === e.eventId)!;
      expect(e.kafka).toMatchObject({ topic: orderTopic, partition: m.partition, offset: String(m.offset) });
      expect(e.kafka.timestamp).toEqual(expect.any(String));
      expect(e.consumedAt).toEqual(expect.any(String));
      const handlers = Object.fromEntries(e.handlers.map((h: Json) => [h.handler, h]));
      expect(Object.keys(handlers).sort()).toEqual(['audit', 'metrics', 'points', 'ranking']);
      expect(handlers.audit.group).toBe(groupA);
      expect(handlers.audit.at).toEqual(expect.any(String));
      expect(e.hops.map((h: Json) => `${h.from}>${h.to}`)).toEqual(
        expect.arrayContaining(['written>published', 'published>consumed', 'consumed>audit']),
      );
      for (const h of e.hops) expect(h.ms).toBeGreaterThanOrEqual(-1_000);
      expect(e.groups.map((g: Json) => [g.groupId, g.consumed])).toEqual(
        expect.arrayContaining([
          [groupA, true],
          [groupB, true],
        ]),
      );
      expect(e.deadLetters).toEqual([]);
      expect(e.missing).toEqual([]);
    }
    expect(r.payments).toHaveLength(1);
    expect(r.payments[0].status).toBe('SUCCEEDED');
    expect(r.payments[0].transitions.map((t: Json) => t.status)).toEqual([
      'REQUESTED',
      'PENDING',
      'SUCCEEDED',
    ]);
    expect(human.code, human.stderr).toBe(0);
    const created = r.events[0];
    expect(human.stdout).toMatch(new RegExp(`OrderCreated v1 +${created.eventId}`));
    expect(human.stdout).toContain(
      `${orderTopic} partition ${created.kafka.partition} offset ${created.kafka.offset}`,
    );
    expect(human.stdout).toMatch(/published .* \(\+\d/);
    expect(human.stdout).toMatch(/payment \d+: SUCCEEDED/);

    // One event by its id: the same hop.
    const one = await trace(['event', r.events[2].eventId, '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.json.events).toHaveLength(1);
    expect(one.json.events[0].kafka.offset).toBe(r.events[2].kafka.offset);
  }, 60_000);

  it('with the collector of one group stopped, trace names that group, its partition and its lag', async () => {
    const { ctx } = s;
    expect(await stopCli(procs.find((p) => p.name === 'collector B')!.child)).toBe(0);
    const id = await order('trace-late');
    await eventually(async () => {
      const { rows } = await ctx.pool.query(
        `SELECT 1 FROM outbox_event o JOIN event_inbox i USING (event_id)
          WHERE o.aggregate_type = 'order' AND o.aggregate_id = $1 AND 'audit' = ANY (i.handlers)`,
        [String(id)],
      );
      return rows.length === 1;
    }, 20_000);
    const [json, human] = await Promise.all([
      trace(['order', String(id), '--json']),
      trace(['order', String(id)]),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const [created] = json.json.events;
    const partition = created.kafka.partition;
    const b = created.groups.find((g: Json) => g.groupId === groupB);
    expect(b).toMatchObject({ consumed: false, partition });
    expect(b.lag).toBeGreaterThanOrEqual(1);
    expect(created.groups.find((g: Json) => g.groupId === groupA).consumed).toBe(true);
    expect(created.missing.join('\n')).toMatch(
      new RegExp(
        `not yet consumed by group ${groupB}: partition ${partition} is \\d+ messages / [\\d.]+ s behind`,
      ),
    );
    expect(human.stdout).toMatch(
      new RegExp(`not yet consumed by group ${groupB}: partition ${partition} is`),
    );
  }, 40_000);

  it('a dead-lettered event shows its dead letter, its error and that it was not replayed', async () => {
    const { ctx } = s;
    // The audit handler's row of this user's events is refused by PostgreSQL: A dead-letters them.
    await ctx.pool.query(`
      CREATE FUNCTION trace_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused for the trace test'; END $$;
      CREATE TRIGGER trace_refuse BEFORE INSERT OR UPDATE ON event_inbox FOR EACH ROW
        WHEN (NEW.envelope IS NOT NULL AND NEW.envelope->'payload'->>'userId' = '${DEAD_USER}')
        EXECUTE FUNCTION trace_refuse();`);
    const id = await order(DEAD_USER);
    // Dead-lettered, and A's offset committed past it (the letter is sent before the commit).
    await eventually(async () => {
      if (!(await endOffsets(ctx, dlqTopic(orderTopic))).some((n) => n > 0)) return false;
      const [ends, a] = [await endOffsets(ctx, orderTopic), await committedOffsets(ctx, groupA, orderTopic)];
      return ends.every((end, p) => end === 0 || a[p] === end);
    }, 30_000);
    const r = await trace(['order', String(id), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [created] = r.json.events;
    expect(created.deadLetters).toHaveLength(1);
    expect(created.deadLetters[0]).toMatchObject({
      topic: dlqTopic(orderTopic),
      consumerGroup: groupA,
      replayed: false,
    });
    expect(created.deadLetters[0].error).toMatch(/refused for the trace test/);
    // Never audited: found on the broker, on its key's partition, from the time it was written.
    expect(created.kafka).toMatchObject({ source: 'broker', topic: orderTopic });
    expect(created.kafka.offset).toMatch(/^\d+$/);
    expect(created.groups.find((g: Json) => g.groupId === groupA).consumed).toBe(true);
    expect(created.missing.join('\n')).toMatch(/dead-lettered by .*refused for the trace test.*not replayed/);
  }, 45_000);

  it('with Kafka down it prints the database part and says Kafka was not reachable (exit 4)', async () => {
    const down = { KAFKA_BROKERS: `127.0.0.1:${CLOSED_PORT}` };
    const [json, human] = await Promise.all([
      trace(['order', String(paidOrder), '--json', '--timeout', '3s'], down),
      trace(['order', String(paidOrder), '--timeout', '3s'], down),
    ]);
    expect(json.code, json.stderr).toBe(4);
    expect(json.json.complete).toBe(false);
    expect(json.json.sources.find((x: Json) => x.name === 'Kafka').reachable).toBe(false);
    expect(json.json.events.map((e: Json) => e.outbox.status)).toEqual([
      'PUBLISHED',
      'PUBLISHED',
      'PUBLISHED',
    ]);
    // The audit rows still say where the events landed.
    expect(json.json.events[0].kafka).toMatchObject({
      source: 'audit',
      offset: expect.stringMatching(/^\d+$/),
    });
    expect(human.code).toBe(4);
    expect(human.stdout).toMatch(new RegExp(`Kafka was not reachable: 127.0.0.1:${CLOSED_PORT}`));
    expect(human.stdout).toMatch(/OrderCreated v1/);
    noStack(human.stdout + human.stderr);
  }, 30_000);

  it('bad input: a clear message naming it and its exit code, never a stack trace; a product traces too', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['foo', '1'], 2, /Expected foo to be one of: order, product, event/],
      [['order', 'abc'], 2, /"abc" is not an order id/],
      [['order', '1', '--timeout', '30d'], 2, /--timeout must be between 1ms and 120s, got 30d/],
      [['order', '99999999', '--json'], 1, /"code": "NOT_FOUND"[^]*order 99999999 does not exist/],
      [
        ['event', '3f0c2a9e-5b1d-4c8e-9f00-1a2b3c4d5e6f'],
        1,
        /event 3f0c2a9e-.* is neither in the outbox nor in the inbox .*commerce dlq list/,
      ],
      [['product', String(productId)], 0, /ProductCreated v1/],
    ];
    const results = await Promise.all(cases.map(([args]) => trace(args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stdout + r.stderr, args.join(' ')).toMatch(message);
      noStack(r.stdout + r.stderr);
    });
  }, 30_000);
});
