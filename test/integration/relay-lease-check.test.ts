import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { rows } from '../../src/lib/db/query.js';
import { renewLease } from '../../src/lib/outbox/sql/claim-lease.js';
import { claimEvents } from '../support/outbox-reference.js';
import { leaseKeptMs } from '../../src/jobs/relay/pipeline.js';
import { releaseAllLeases } from '../../src/lib/outbox/claim-lease.js';

/**
 * The renewal before a send writes only rows whose lease is no longer almost whole (issue 15): a batch
 * sent right after its claim is checked, not re-written; a batch that waited gets a fresh lease.
 * Either way only rows still ours are returned.
 */
describe('relay lease check before a send', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(() => ctx?.close());

  const LEASE_MS = 30_000;
  const state = async () =>
    (
      await ctx.pool.query<{ id: number; ctid: string; until: Date }>(
        `SELECT id, ctid::text, locked_until AS until FROM outbox_event ORDER BY id`,
      )
    ).rows;

  it('reads a fresh lease, re-writes one that ran down, and returns only rows still ours', async () => {
    await insertEvents(ctx.pool, viewEvents(3, 2), ctx.config.kafka.topics);
    const claimed = await rows<{ id: number }>(ctx.pool, claimEvents('relay-a', 100, LEASE_MS));
    expect(claimed).toHaveLength(6);
    const ids = claimed.map((r) => r.id);
    const before = await state();

    // Fresh: every row comes back, and none got a new row version (same ctid, same lease end).
    const fresh = await rows<{ id: number }>(
      ctx.pool,
      renewLease('relay-a', ids, LEASE_MS, leaseKeptMs(LEASE_MS)),
    );
    expect(fresh.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(ids.map(Number));
    expect(await state()).toEqual(before);

    // Two rows' leases ran down to 10s (a batch that waited); one row was taken over by another relay.
    const [low1, low2, taken] = ids;
    await ctx.pool.query(
      `UPDATE outbox_event SET locked_until = now() + interval '10 seconds' WHERE id = ANY($1::bigint[])`,
      [[low1, low2]],
    );
    await ctx.pool.query(`UPDATE outbox_event SET locked_by = 'relay-b' WHERE id = $1`, [taken]);
    const renewed = await rows<{ id: number }>(
      ctx.pool,
      renewLease('relay-a', ids, LEASE_MS, leaseKeptMs(LEASE_MS)),
    );
    expect(renewed.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(
      ids.filter((id) => id !== taken).map(Number),
    );
    const after = await ctx.pool.query<{ id: number; left: number }>(
      `SELECT id, extract(epoch FROM locked_until - now()) AS left FROM outbox_event
        WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [[low1, low2]],
    );
    for (const row of after.rows) expect(Number(row.left)).toBeGreaterThan(25);
  });

  it('releaseAllLeases gives back every row one relay holds, and only those, due at once', async () => {
    await ctx.pool.query('DELETE FROM outbox_event');
    await insertEvents(
      ctx.pool,
      [...viewEvents(4, 1, 100), ...viewEvents(3, 1, 200)],
      ctx.config.kafka.topics,
    );
    const mine = await rows<{ id: number }>(ctx.pool, claimEvents('relay-stopping', 4, LEASE_MS));
    const theirs = await rows<{ id: number }>(ctx.pool, claimEvents('relay-other', 100, LEASE_MS));
    expect(mine).toHaveLength(4);
    expect(theirs).toHaveLength(3);
    expect(await releaseAllLeases(ctx.pool, 'relay-stopping')).toBe(4);
    // Another relay claims them at once, not after the 30s lease; relay-other keeps its rows.
    const next = await rows<{ id: number }>(ctx.pool, claimEvents('relay-next', 100, LEASE_MS));
    expect(next.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(mine.map((r) => Number(r.id)));
    const kept = await ctx.pool.query(
      `SELECT count(*)::int AS n FROM outbox_event WHERE locked_by = 'relay-other'`,
    );
    expect(kept.rows[0].n).toBe(3);
  });
});
