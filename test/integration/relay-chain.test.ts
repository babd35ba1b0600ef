import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestContext, type TestContext } from '../support/context.js';
import { insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { rows } from '../../src/lib/db/query.js';
import { decideClaim, type WindowRow } from '../../src/lib/outbox/chain.js';
import { selectClaimWindow } from '../../src/lib/outbox/sql/claim.js';
import { claimLeased } from '../../src/lib/outbox/sql/claim-lease.js';
import { claimEvents } from '../support/outbox-reference.js';

/** A small deterministic generator, so a failing shape can be replayed from its seed. */
function random(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
}

async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    return await fn(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

// Lock mode applies the claim's chain rule in TypeScript (chain.ts), lease mode in its one-statement
// claim (claimLeased); the single-statement SQL claim (claimEvents) is the reference. All must pick and
// block the same rows on any backlog.
describe('claim chain rule: chain.ts agrees with the SQL claim', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(() => ctx?.close());

  async function both(limit: number) {
    const reference = await inTransaction(ctx.pool, async (c) => {
      const claimed = await rows<{ id: number }>(c, claimEvents('reference', limit, 60_000));
      const flagged = (await c.query<{ id: number }>(`SELECT id FROM outbox_event WHERE blocked ORDER BY id`))
        .rows;
      return { picked: claimed.map((r) => r.id), flagged: flagged.map((r) => r.id) };
    });
    const ours = await inTransaction(ctx.pool, async (c) => {
      const { picked, block } = decideClaim(await rows<WindowRow>(c, selectClaimWindow(limit)), limit);
      await c.query('UPDATE outbox_event SET blocked = true WHERE id = ANY($1::bigint[])', [block]);
      const flagged = (await c.query<{ id: number }>(`SELECT id FROM outbox_event WHERE blocked ORDER BY id`))
        .rows;
      return { picked: picked.map((r) => r.id), flagged: flagged.map((r) => r.id) };
    });
    const leased = await inTransaction(ctx.pool, async (c) => {
      const claimed = await rows<{ id: number | null }>(c, claimLeased('lease-claim', limit, 60_000, true));
      const flagged = (await c.query<{ id: number }>(`SELECT id FROM outbox_event WHERE blocked ORDER BY id`))
        .rows;
      return {
        picked: claimed.flatMap((r) => (r.id === null ? [] : [r.id])),
        flagged: flagged.map((r) => r.id),
      };
    });
    return { reference, ours, leased };
  }

  it('on 60 random backlogs (published, FAILED, retrying, blocked and leased rows mixed)', async () => {
    let picking = 0;
    let blocking = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const next = random(seed);
      await ctx.pool.query('TRUNCATE outbox_event');
      await insertEvents(
        ctx.pool,
        viewEvents(1 + Math.floor(next() * 8), 1 + Math.floor(next() * 12)),
        ctx.config.kafka.topics,
      );
      const { rows: all } = await ctx.pool.query<{ id: number }>('SELECT id FROM outbox_event ORDER BY id');
      for (const { id } of all) {
        const roll = next();
        const change =
          roll < 0.25
            ? `status = 'PUBLISHED', published_at = now()`
            : roll < 0.3
              ? `status = 'FAILED'`
              : roll < 0.35
                ? `next_attempt_at = now() + interval '1 hour'`
                : roll < 0.4
                  ? `blocked = true`
                  : roll < 0.45
                    ? `locked_by = 'other', locked_until = now() + interval '1 hour'`
                    : null;
        if (change) await ctx.pool.query(`UPDATE outbox_event SET ${change} WHERE id = $1`, [id]);
      }
      const limit = 1 + Math.floor(next() * 30);
      const { reference, ours, leased } = await both(limit);
      expect({ seed, ...ours }).toEqual({ seed, ...reference });
      expect({ seed, ...leased }).toEqual({ seed, ...reference });
      if (reference.picked.length > 0) picking++;
      if (reference.flagged.length > 0) blocking++;
    }
    // The shapes exercise both outcomes, not only empty claims.
    expect(picking).toBeGreaterThan(30);
    expect(blocking).toBeGreaterThan(10);
  }, 120_000);

  it('when the window is shorter than the backlog (1,500 rows on 3 products and 700 on 700)', async () => {
    await ctx.pool.query('TRUNCATE outbox_event');
    await insertEvents(ctx.pool, [...viewEvents(3, 500), ...viewEvents(700, 1, 10)], ctx.config.kafka.topics);
    await ctx.pool.query(
      `UPDATE outbox_event SET status = 'FAILED' WHERE aggregate_id = '2' AND aggregate_version = 3`,
    );
    for (const limit of [100, 500]) {
      const { reference, ours, leased } = await both(limit);
      expect(ours).toEqual(reference);
      expect(leased).toEqual(reference);
      expect(ours.picked.length).toBeGreaterThan(0);
    }
  }, 60_000);
});
