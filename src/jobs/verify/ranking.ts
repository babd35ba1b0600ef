import type pg from 'pg';
import type { Redis } from 'ioredis';
import { forEachChunk } from '../../lib/db/cursor.js';
import { rows } from '../../lib/db/query.js';
import type { RankingWeights } from '../../lib/ranking/score.js';
import { SCORE_EPSILON, type RankingDay } from '../../domain/rankings/live-day.js';
import type { Difference } from './report.js';
import { selectExpectedRanking } from './sql.js';
import { withSnapshot } from '../../lib/db/transaction.js';

interface ExpectedRow {
  product_id: string;
  expected: number;
  has_rows: boolean;
}

const differs = (expected: number, live: number | null) => Math.abs(expected - (live ?? 0)) > SCORE_EPSILON;

/**
 * The live ranking against the score rule on the daily metrics, in two passes over the snapshot
 * `client` holds: the products with daily rows (streamed, ZMSCORE per chunk), then the key's members
 * without rows (ZSCAN). Returns the products that differ there, to be confirmed by `confirmRanking`
 * (the collector writes Redis just after its commit, so a snapshot alone can be a moment off).
 */
export async function rankingCandidates(
  client: pg.PoolClient,
  redis: Redis,
  day: RankingDay,
  options: { weights: RankingWeights; ids: number[] | null; chunkSize: number; inFlight: Set<number> },
): Promise<{ members: number; candidates: number[] }> {
  const candidates: number[] = [];
  let members = 0;
  const compare = async (chunk: ExpectedRow[], onlyWithoutRows: boolean) => {
    const todo = chunk.filter(
      (r) => !options.inFlight.has(Number(r.product_id)) && !(onlyWithoutRows && r.has_rows),
    );
    if (todo.length === 0) return;
    const live = await redis.zmscore(day.key, ...todo.map((r) => r.product_id));
    todo.forEach((r, i) => {
      if (differs(r.expected, live[i] === null ? null : Number(live[i])))
        candidates.push(Number(r.product_id));
    });
  };
  await forEachChunk<ExpectedRow>(
    client,
    selectExpectedRanking(day, options.weights, options.ids),
    options.chunkSize,
    (chunk) => compare(chunk, false),
  );
  if (options.ids === null) {
    // Members the daily rows do not explain (their expected score is 0).
    let cursor = '0';
    do {
      const [next, flat] = await redis.zscan(day.key, cursor, 'COUNT', options.chunkSize);
      cursor = next;
      const ids: number[] = [];
      for (let i = 0; i < flat.length; i += 2) ids.push(Number(flat[i]));
      members += ids.length;
      if (ids.length > 0)
        await compare(
          await rows<ExpectedRow>(client, selectExpectedRanking(day, options.weights, ids)),
          true,
        );
    } while (cursor !== '0');
  } else {
    members = options.ids.length;
  }
  return { members, candidates: [...new Set(candidates)].sort((a, b) => a - b) };
}

/**
 * A second look at the candidates, outside the first snapshot: live score read, then a fresh
 * snapshot of the expected score and of what is in flight, then the live score again. A product is
 * reported when it is not in flight and its expected score is not between the two live readings.
 */
export async function confirmRanking(
  pool: pg.Pool,
  redis: Redis,
  day: RankingDay,
  options: {
    weights: RankingWeights;
    candidates: number[];
    chunkSize: number;
    inFlight: (client: pg.PoolClient) => Promise<Set<number>>;
  },
): Promise<Difference[]> {
  const differences: Difference[] = [];
  for (let i = 0; i < options.candidates.length; i += options.chunkSize) {
    const ids = options.candidates.slice(i, i + options.chunkSize);
    const members = ids.map(String);
    const before = await redis.zmscore(day.key, ...members);
    const { expected, inFlight } = await withSnapshot(pool, async (client) => ({
      inFlight: await options.inFlight(client),
      expected: await rows<ExpectedRow>(client, selectExpectedRanking(day, options.weights, ids)),
    }));
    const after = await redis.zmscore(day.key, ...members);
    const byId = new Map(expected.map((r) => [Number(r.product_id), r.expected]));
    ids.forEach((id, k) => {
      if (inFlight.has(id)) return;
      const want = byId.get(id) ?? 0;
      const a = before[k] === null ? null : Number(before[k]);
      const b = after[k] === null ? null : Number(after[k]);
      const lo = Math.min(a ?? 0, b ?? 0) - SCORE_EPSILON;
      const hi = Math.max(a ?? 0, b ?? 0) + SCORE_EPSILON;
      if (want < lo || want > hi)
        differences.push({
          check: 'ranking',
          productId: id,
          field: `score ${day.key}`,
          expected: want,
          actual: b,
        });
    });
  }
  return differences;
}
