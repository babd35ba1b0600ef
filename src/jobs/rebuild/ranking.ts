import type pg from 'pg';
import type { Redis } from 'ioredis';
import { forEachChunk } from '../../lib/db/cursor.js';
import { exec } from '../../lib/db/query.js';
import { RANKING_MARK_TTL_SECONDS, rankingMarkKey } from '../../lib/ranking/live-ranking.js';
import { DAILY_RANKING_TTL_SECONDS, type RankingWeights } from '../../lib/ranking/score.js';
import { compactDate } from '../../lib/time/dates.js';
import { SCORE_EPSILON, type RankingDay } from '../../domain/rankings/live-day.js';
import { lockDailyMetricsShared, selectDayContributions, selectDayScores } from './sql.js';
import type { TableRebuild } from './tables.js';

/**
 * Rebuilds a day's live ranking from product_metrics_daily into a temporary key, then RENAMEs it over
 * the live key (readers see the old or the new ranking, never a partial one). Runs inside `client`'s
 * transaction, which holds product_metrics_daily in SHARE mode until the rename is done:
 * - a collector transaction not yet committed waits (its daily upsert), so its events are neither in
 *   the rebuilt scores nor incremented on the old key: they are incremented after, on the new one;
 * - events committed before the lock are in the scores, and their ranking marks are set (NX) here
 *   before the rename, so the collector's Redis step that may still be coming for them is a no-op
 *   (or, if it came first, went to the old key, which the rename discards).
 * This assumes the ranking handler runs in the same group as metrics (the default), whose
 * transaction holds both marks. A dry run only compares.
 */
/** Long enough for any rebuild; the key is renamed (and given the day's TTL) or deleted before. */
const TEMP_TTL_SECONDS = 3_600;

export async function rebuildRanking(
  client: pg.PoolClient,
  redis: Redis,
  day: RankingDay,
  options: {
    weights: RankingWeights;
    timeZone: string;
    dryRun: boolean;
    chunkSize: number;
    runId: number;
  },
): Promise<TableRebuild & { marks: number }> {
  if (!options.dryRun) await exec(client, lockDailyMetricsShared());
  const temp = `ranking:rebuild:${compactDate(day.date)}:${options.runId}`;
  await redis.del(temp);
  let changed = 0;
  const rows = await forEachChunk<{ product_id: string; score: number }>(
    client,
    selectDayScores(day, options.weights),
    options.chunkSize,
    async (chunk) => {
      const live = await redis.zmscore(day.key, ...chunk.map((r) => r.product_id));
      chunk.forEach((r, i) => {
        if (Math.abs(r.score - (live[i] === null ? 0 : Number(live[i]))) > SCORE_EPSILON) changed += 1;
      });
      // A run that dies midway leaves the temporary key to expire, not to linger.
      await redis
        .multi()
        .zadd(temp, ...chunk.flatMap((r) => [r.score, r.product_id]))
        .expire(temp, TEMP_TTL_SECONDS)
        .exec();
    },
  );
  // Live members the daily rows do not explain (a score of 0 is no difference).
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(day.key, cursor, 'COUNT', options.chunkSize);
    cursor = next;
    const members = flat.filter((_, i) => i % 2 === 0);
    if (members.length === 0) continue;
    const rebuilt = await redis.zmscore(temp, ...members);
    members.forEach((_, i) => {
      if (rebuilt[i] === null && Math.abs(Number(flat[2 * i + 1])) > SCORE_EPSILON) changed += 1;
    });
  } while (cursor !== '0');

  let marks = 0;
  if (options.dryRun) {
    await redis.del(temp);
    return { rows, changed, marks };
  }
  await forEachChunk<{ event_id: string; product_id: string }>(
    client,
    selectDayContributions(day.date, options.timeZone),
    options.chunkSize,
    async (chunk) => {
      const pipeline = redis.pipeline();
      for (const c of chunk)
        pipeline.set(
          rankingMarkKey(c.event_id, Number(c.product_id)),
          '1',
          'EX',
          RANKING_MARK_TTL_SECONDS,
          'NX',
        );
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
      marks += chunk.length;
    },
  );
  if (rows > 0) {
    await redis.expire(temp, DAILY_RANKING_TTL_SECONDS);
    await redis.rename(temp, day.key);
  } else {
    await redis.del(day.key);
  }
  return { rows, changed, marks };
}
